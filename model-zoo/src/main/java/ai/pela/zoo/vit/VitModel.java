package ai.pela.zoo.vit;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A ViT for inference: weights are graph constants, so nothing is ever differentiated. Used for the frozen
 * teacher of PELA, for {@code predict} and for evaluation.
 */
public final class VitModel {
    /** Logits [N, classes] and every block's output tokens [N, T, D] (before the final norm). */
    public record Output(INDArray logits, List<INDArray> features) {
    }

    private final ModelConfig config;
    private final SameDiff sd;
    private final VitGraph.Handles handles;

    private VitModel(ModelConfig config, SameDiff sd, VitGraph.Handles handles) {
        this.config = config;
        this.sd = sd;
        this.handles = handles;
    }

    /**
     * Builds the model, first checking that the checkpoint has exactly the keys and shapes the config needs.
     *
     * @param source the checkpoint's file name, for error messages
     */
    public static VitModel create(ModelConfig config, StateDict weights, String source) {
        if (!config.hasHead()) {
            throw new ai.pela.zoo.PelaException(source + ": the config has num_classes 0 (no head), so the model has no logits");
        }
        weights.checkMatches(source, VitLayout.parameterShapes(config));
        SameDiff sd = SameDiff.create();
        VitGraph.Handles h = VitGraph.build(sd, config, weights, false);
        return new VitModel(config, sd, h);
    }

    public ModelConfig config() {
        return config;
    }

    public Output forward(INDArray images) {
        checkInput(images);
        List<String> outputs = new ArrayList<>(handles.blockOutputNames());
        outputs.add(handles.logits().name());
        Map<String, INDArray> out = sd.output(placeholders(images), outputs);
        List<INDArray> features = new ArrayList<>();
        for (String f : handles.blockOutputNames()) {
            features.add(out.get(f));
        }
        return new Output(out.get(handles.logits().name()), features);
    }

    public INDArray logits(INDArray images) {
        checkInput(images);
        return sd.output(placeholders(images), handles.logits().name()).get(handles.logits().name());
    }

    /** Logits of a large batch, computed {@code batchSize} images at a time to bound memory. */
    public INDArray logits(INDArray images, int batchSize) {
        long n = images.size(0);
        if (n <= batchSize) {
            return logits(images);
        }
        List<INDArray> parts = new ArrayList<>();
        for (long s = 0; s < n; s += batchSize) {
            INDArray batch = images.get(NDArrayIndex.interval(s, Math.min(n, s + batchSize)));
            parts.add(logits(batch.dup()));
            ai.pela.zoo.train.NativeMemory.release();
        }
        return Nd4j.concat(0, parts.toArray(INDArray[]::new));
    }

    private Map<String, INDArray> placeholders(INDArray images) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(VitGraph.INPUT, images.dataType() == DataType.FLOAT ? images : images.castTo(DataType.FLOAT));
        return ph;
    }

    private void checkInput(INDArray images) {
        checkInputShape(config, images.shape(), "input");
    }

    /** Fails naming {@code source} unless {@code shape} is an image batch [N, C, H, W] the model takes. */
    public static void checkInputShape(ModelConfig config, long[] shape, String source) {
        long[] s = shape;
        if (s.length != 4 || s[1] != config.inChans() || s[2] != config.imgSize() || s[3] != config.imgSize()) {
            throw new ai.pela.zoo.PelaException(source + ": input has shape " + java.util.Arrays.toString(s)
                    + " but the model needs [N, " + config.inChans() + ", " + config.imgSize() + ", " + config.imgSize() + "]");
        }
    }
}
