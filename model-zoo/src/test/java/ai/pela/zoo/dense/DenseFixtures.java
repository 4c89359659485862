package ai.pela.zoo.dense;

import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.Npy;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The PyTorch references under src/test/resources/dense (made by src/test/python/make_dense_fixtures.py). */
final class DenseFixtures {
    private DenseFixtures() {
    }

    static ModelConfig vitConfig() {
        return ConfigJson.read(Fixtures.resource("/dense/vit.json"));
    }

    static StateDict vitWeights() {
        return Safetensors.read(Fixtures.resource("/dense/vit.safetensors"));
    }

    static HeadConfig head(String name) {
        try (InputStream in = Files.newInputStream(Fixtures.resource("/dense/" + name + "_head.json"))) {
            return HeadJson.read(in, name + "_head.json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static StateDict tensors(String file) {
        return Safetensors.read(Fixtures.resource("/dense/" + file));
    }

    static INDArray npy(String file) {
        return Npy.read(Fixtures.resource("/dense/" + file));
    }

    /** The dense checkpoint: the ViT's backbone part at the head's size, plus the fixture's head weights. */
    static StateDict denseWeights(String name) {
        HeadConfig head = head(name);
        StateDict sd = Backbone.fromClassifier(vitConfig(), vitWeights(), head, "vit.safetensors");
        tensors(name + "_head.safetensors").asMap().forEach(sd::put);
        return sd;
    }

    /** Ground-truth boxes of image {@code i} of fcos.safetensors. */
    static List<GtBox> boxes(StateDict f, int i) {
        float[] b = f.get("gt." + i + ".boxes").data().asFloat();
        float[] l = f.get("gt." + i + ".labels").toFloatVector();
        List<GtBox> out = new ArrayList<>();
        for (int k = 0; k < l.length; k++) {
            out.add(new GtBox(b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3], (int) l[k]));
        }
        return out;
    }
}
