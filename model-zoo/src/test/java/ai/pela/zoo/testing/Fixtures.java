package ai.pela.zoo.testing;

import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.Npy;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The PyTorch-made fixtures under src/test/resources/fixtures (see its README.md; regenerate with
 * {@code /usr/bin/python3 model-zoo/src/test/python/make_fixtures.py}).
 */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path path(String relative) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + relative).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture " + relative, e);
        }
    }

    public static ModelConfig config(String set) {
        return ConfigJson.read(path(set + "/config.json"));
    }

    public static StateDict weights(String set) {
        return Safetensors.read(path(set + "/model.safetensors"));
    }

    public static StateDict safetensors(String relative) {
        return Safetensors.read(path(relative));
    }

    public static INDArray npy(String relative) {
        return Npy.read(path(relative));
    }

    /** max |actual − expected| / max |expected|: the relative error the tolerances are stated in. */
    public static double relativeError(INDArray actual, INDArray expected) {
        double diff = Transforms.abs(actual.castTo(expected.dataType()).sub(expected)).maxNumber().doubleValue();
        return diff / Transforms.abs(expected).maxNumber().doubleValue();
    }

    public static double maxAbsDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.castTo(b.dataType()).sub(b)).maxNumber().doubleValue();
    }
}
