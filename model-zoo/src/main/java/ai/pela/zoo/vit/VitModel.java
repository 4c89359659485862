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
    private final DataType dtype;

    private VitModel(ModelConfig config, SameDiff sd, VitGraph.Handles handles, DataType dtype) {
        this.dtype = dtype;
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
        return create(config, weights, source, DataType.FLOAT);
    }

    /**
     * As above, computing in {@code dtype} (FLOAT, or HALF for an FP16 teacher on a GPU); inputs are cast to it and
     * outputs come back as FLOAT, so callers never see the difference except in precision.
     */
    public static VitModel create(ModelConfig config, StateDict weights, String source, DataType dtype) {
        if (!config.hasHead()) {
            throw new ai.pela.zoo.PelaException(source + ": the config has num_classes 0 (no head), so the model has no logits");
        }
        weights.checkMatches(source, VitLayout.parameterShapes(config));
        SameDiff sd = SameDiff.create();
        VitGraph.Handles h = VitGraph.buildFrozen(sd, config, weights, dtype);
        return new VitModel(config, sd, h, dtype);
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
            features.add(asFloat(out.get(f)));
        }
        return new Output(asFloat(out.get(handles.logits().name())), features);
    }

    public INDArray logits(INDArray images) {
        checkInput(images);
        return asFloat(sd.output(placeholders(images), handles.logits().name()).get(handles.logits().name()));
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
        ph.put(VitGraph.INPUT, images.dataType() == dtype ? images : images.castTo(dtype));
        return ph;
    }

    private static INDArray asFloat(INDArray a) {
        return a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
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

    /**
     * Lets go of the arrays of the last forward pass ({@link ai.pela.zoo.train.NativeMemory#forget}); only for a model
     * that no other thread is running, such as a trainer's teacher.
     */
    public void forgetLastRun() {
        ai.pela.zoo.train.NativeMemory.forget(sd);
    }
}
