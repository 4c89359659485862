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
        return resource("/fixtures/" + relative);
    }

    /**
     * A test resource as a file. Other modules see these resources inside model-zoo's test jar, so a resource
     * in a jar is copied out to a temporary file first.
     */
    public static Path resource(String name) {
        java.net.URL url = Fixtures.class.getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + name);
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            Path dir = java.nio.file.Files.createTempDirectory("pela-fixture");
            Path file = dir.resolve(Path.of(name).getFileName().toString());
            try (java.io.InputStream in = url.openStream()) {
                java.nio.file.Files.copy(in, file);
            }
            file.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return file;
        } catch (URISyntaxException | java.io.IOException e) {
            throw new IllegalStateException("cannot read test resource " + name, e);
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

    /** The largest |a[i] − b[i]| of two flat parameter vectors, which must have the same length. */
    public static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("vectors of " + a.length + " and " + b.length + " values");
        }
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
