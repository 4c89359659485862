package ai.pela.zoo.vit;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.ArrayList;
import ai.pela.zoo.engine.KeptActivations;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Vit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A ViT for inference: the frozen teacher of PELA, {@code predict} and evaluation. In FLOAT it runs on the engine
 * ({@link Vit}: explicit forward, buffers allocated once per batch size, blocks sharing one set of activations so
 * memory does not grow with depth); an FP16 teacher on a GPU ({@code create(…, HALF)}) runs as a SameDiff graph of
 * constants ({@link VitGraph}), which the engine does not cover yet. Nothing is ever differentiated. One model may
 * be shared by a JVM's tasks: passes are serialised.
 */
public final class VitModel {
    /** Logits [N, classes] and every block's output tokens [N, T, D] (before the final norm). */
    public record Output(INDArray logits, List<INDArray> features) {
    }

    private final ModelConfig config;
    private final Vit engine;
    private final KeptActivations<Vit.Activations> activations;
    private final SameDiff sd;
    private final VitGraph.Handles handles;
    private final DataType dtype;

    private VitModel(ModelConfig config, Vit engine, SameDiff sd, VitGraph.Handles handles, DataType dtype) {
        this.config = config;
        this.engine = engine;
        this.activations = engine == null ? null : new KeptActivations<>(engine::activations); // a graph has none
        this.sd = sd;
        this.handles = handles;
        this.dtype = dtype;
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
        if (dtype == DataType.FLOAT) {
            ParamSet params = ParamSet.of(VitLayout.parameterShapes(config), weights, false);
            return new VitModel(config, new Vit(config, params, Kernels.forBackend()), null, null, dtype);
        }
        SameDiff sd = SameDiff.create();
        VitGraph.Handles h = VitGraph.buildFrozen(sd, config, weights, dtype);
        return new VitModel(config, null, sd, h, dtype);
    }

    public ModelConfig config() {
        return config;
    }

    /** Logits and every block's output (copies, [N, T, D]). */
    public synchronized Output forward(INDArray images) {
        checkInput(images);
        if (engine == null) {
            return graphForward(images);
        }
        List<INDArray> features = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            features.add(Nd4j.create(DataType.FLOAT, images.size(0), config.numTokens(), config.embedDim()));
        }
        Vit.Activations a = activations.get((int) images.size(0));
        engine.forward(a, asFloat(images), features);
        return new Output(a.logits().dup(), features);
    }

    /**
     * Copies every block's output for {@code images} into {@code into} (one FLOAT array of N·T·D values per block,
     * [N·T, D] or [N, T, D]): the teacher's side of L_fd, written into the student step's own buffers so a teacher
     * shared by several tasks never hands out its own.
     */
    public void features(INDArray images, List<INDArray> into) {
        features(images, into, ai.pela.zoo.loss.FdPoints.BLOCKS);
    }

    /**
     * The teacher's side of L_fd at {@code points}: every block's output (as above) or, for
     * {@link ai.pela.zoo.loss.FdPoints#FINAL}, the pooled feature [N, D] into {@code into.get(0)} (engine only).
     */
    public synchronized void features(INDArray images, List<INDArray> into, ai.pela.zoo.loss.FdPoints points) {
        checkInput(images);
        if (engine == null && points != ai.pela.zoo.loss.FdPoints.BLOCKS) {
            throw new ai.pela.zoo.PelaException("the " + dtype + " teacher (a SameDiff graph) gives block outputs only; "
                    + "fd-points = final needs a FLOAT teacher");
        }
        if (engine == null) {
            List<INDArray> f = graphForward(images).features();
            for (int i = 0; i < f.size(); i++) {
                into.get(i).assign(f.get(i).reshape(into.get(i).shape()));
            }
            return;
        }
        engine.forward(activations.get((int) images.size(0)), asFloat(images), into, points);
    }

    public synchronized INDArray logits(INDArray images) {
        checkInput(images);
        if (engine == null) {
            return asFloat(sd.output(placeholders(images), handles.logits().name()).get(handles.logits().name()));
        }
        Vit.Activations a = activations.get((int) images.size(0));
        engine.forward(a, asFloat(images), null);
        return a.logits().dup();
    }

    /** Logits of a large batch, computed {@code batchSize} images at a time to bound memory. */
    public INDArray logits(INDArray images, int batchSize) {
        return inBatches(images, batchSize, this::logits);
    }

    /** {@code logits} of a large batch, {@code batchSize} images at a time, concatenated; shared by every family. */
    public static INDArray inBatches(INDArray images, int batchSize, UnaryOperator<INDArray> logits) {
        long n = images.size(0);
        if (n <= batchSize) {
            return logits.apply(images);
        }
        List<INDArray> parts = new ArrayList<>();
        for (long s = 0; s < n; s += batchSize) {
            INDArray batch = images.get(NDArrayIndex.interval(s, Math.min(n, s + batchSize)));
            parts.add(logits.apply(batch.dup()));
        }
        return Nd4j.concat(0, parts.toArray(INDArray[]::new));
    }

    private Output graphForward(INDArray images) {
        List<String> outputs = new ArrayList<>(handles.blockOutputNames());
        outputs.add(handles.logits().name());
        Map<String, INDArray> out = sd.output(placeholders(images), outputs);
        List<INDArray> features = new ArrayList<>();
        for (String f : handles.blockOutputNames()) {
            features.add(asFloat(out.get(f)));
        }
        return new Output(asFloat(out.get(handles.logits().name())), features);
    }

    private Map<String, INDArray> placeholders(INDArray images) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(VitGraph.INPUT, images.dataType() == dtype ? images : images.castTo(dtype));
        return ph;
    }

    /** {@code a} as FLOAT, the engine's and every caller's type (no copy when it already is). */
    public static INDArray asFloat(INDArray a) {
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
     * Lets go of the arrays of the last forward pass ({@link ai.pela.zoo.train.NativeMemory#forget}) of the SameDiff
     * form; the engine's buffers are reused, so there is nothing to let go. Only for a model that no other thread
     * is running, such as a trainer's teacher.
     */
    public void forgetLastRun() {
        if (sd != null) {
            ai.pela.zoo.train.NativeMemory.forget(sd);
        }
    }
}
