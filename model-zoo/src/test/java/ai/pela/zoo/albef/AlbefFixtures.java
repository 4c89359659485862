package ai.pela.zoo.albef;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The PyTorch-made ALBEF fixtures (fixtures/albef/, regenerate with
 * {@code /usr/bin/python3 model-zoo/src/test/python/make_albef_fixtures.py}): a tiny ALBEF with ALBEF's module
 * structure, one batch of 4 image-caption pairs of length 8, its outputs and gradients, and its κ=3 PELA student.
 */
final class AlbefFixtures {
    static final int TEXT_LENGTH = 8;

    private AlbefFixtures() {
    }

    static AlbefConfig config() {
        return AlbefConfigJson.read(Fixtures.path("albef/config.json"));
    }

    static AlbefConfig studentConfig() {
        return AlbefConfigJson.read(Fixtures.path("albef/student_config.json"));
    }

    /** The teacher's state dict as PyTorch wrote it (with the tied decoder aliases). */
    static StateDict rawWeights() {
        return Fixtures.safetensors("albef/model.safetensors");
    }

    static StateDict weights() {
        return AlbefCheckpoint.fromPyTorch(rawWeights(), config(), "albef/model.safetensors");
    }

    /** The student: the teacher's tensors with each decomposed Linear replaced by PyTorch's SVD factors. */
    static StateDict studentWeights() {
        AlbefConfig sc = studentConfig();
        StateDict factors = Fixtures.safetensors("albef/student_factors.safetensors");
        StateDict out = new StateDict();
        StateDict teacher = weights();
        for (String key : AlbefLayout.parameterShapes(sc).keySet()) {
            out.put(key, factors.contains(key) ? factors.get(key) : teacher.get(key));
        }
        return out;
    }

    static AlbefBatch batch() {
        return new AlbefBatch(npy("image"), npy("input_ids"), npy("attention_mask"), npy("mlm_input_ids"),
                npy("mlm_labels"), ints("neg_image_idx"), ints("neg_text_idx"));
    }

    static StateDict outputs() {
        return Fixtures.safetensors("albef/outputs.safetensors");
    }

    static StateDict studentOutputs() {
        return Fixtures.safetensors("albef/student_outputs.safetensors");
    }

    static INDArray npy(String name) {
        return Fixtures.npy("albef/" + name + ".npy");
    }

    private static int[] ints(String name) {
        return npy(name).castTo(DataType.INT).toIntVector();
    }
}
