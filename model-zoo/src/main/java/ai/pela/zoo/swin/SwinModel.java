package ai.pela.zoo.swin;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.engine.KeptActivations;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Swin;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.vit.VitModel;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A Swin Transformer for inference on the engine ({@link Swin}, FLOAT): the frozen teacher of PELA, {@code predict}
 * and evaluation. Buffers are kept for the two most recent batch sizes; the blocks of a stage share one set. One
 * model may be shared by a JVM's tasks: passes are serialised.
 */
public final class SwinModel {
    /** Logits [N, classes] and every block's output [N, res², C] (before the final norm). */
    public record Output(INDArray logits, List<INDArray> features) {
    }

    private final SwinConfig config;
    private final Swin engine;
    private final KeptActivations<Swin.Activations> activations;

    private SwinModel(SwinConfig config, Swin engine) {
        this.config = config;
        this.engine = engine;
        this.activations = new KeptActivations<>(engine::activations);
    }

    /**
     * Builds the model, first checking that the checkpoint has exactly the parameters the config needs (buffers
     * such as {@code relative_position_index} are the loader's to check and drop).
     *
     * @param source the checkpoint's file name, for error messages
     */
    public static SwinModel create(SwinConfig config, StateDict weights, String source) {
        config.validate(source);
        if (!config.hasHead()) {
            throw new PelaException(source + ": the config has num_classes 0 (no head), so the model has no logits");
        }
        weights.checkMatches(source, SwinLayout.parameterShapes(config));
        ParamSet params = ParamSet.of(SwinLayout.parameterShapes(config), weights, false);
        return new SwinModel(config, new Swin(config, params, Kernels.forBackend()));
    }

    public SwinConfig config() {
        return config;
    }

    /** Logits and every block's output (copies). */
    public synchronized Output forward(INDArray images) {
        checkInputShape(config, images.shape(), "input");
        int n = (int) images.size(0);
        List<INDArray> features = new ArrayList<>();
        int i = 0;
        for (int s = 0; s < config.numStages(); s++) {
            for (int j = 0; j < config.depths().get(s); j++, i++) {
                features.add(Nd4j.create(DataType.FLOAT, n, config.tokens(s), config.dim(s)));
            }
        }
        Swin.Activations a = activations.get(n);
        engine.forward(a, VitModel.asFloat(images), features, FdPoints.BLOCKS);
        return new Output(a.logits().dup(), features);
    }

    public synchronized INDArray logits(INDArray images) {
        checkInputShape(config, images.shape(), "input");
        Swin.Activations a = activations.get((int) images.size(0));
        engine.forward(a, VitModel.asFloat(images), null);
        return a.logits().dup();
    }

    /** Logits of a large batch, computed {@code batchSize} images at a time to bound memory. */
    public INDArray logits(INDArray images, int batchSize) {
        return VitModel.inBatches(images, batchSize, this::logits);
    }

    /**
     * Copies every block's output for {@code images} into {@code into} (one FLOAT array of N·res²·C values per
     * block): the teacher's side of L_fd over blocks, written into the student step's own buffers.
     */
    public void features(INDArray images, List<INDArray> into) {
        features(images, into, FdPoints.BLOCKS);
    }

    /**
     * The teacher's side of L_fd at {@code points}: every block's output (as above) or, for {@link FdPoints#FINAL},
     * the pooled feature [N, C] into {@code into.get(0)}.
     */
    public synchronized void features(INDArray images, List<INDArray> into, FdPoints points) {
        checkInputShape(config, images.shape(), "input");
        engine.forward(activations.get((int) images.size(0)), VitModel.asFloat(images), into, points);
    }

    /** Fails naming {@code source} unless {@code shape} is an image batch [N, C, H, W] the model takes. */
    public static void checkInputShape(SwinConfig config, long[] shape, String source) {
        if (shape.length != 4 || shape[1] != config.inChans() || shape[2] != config.imgSize()
                || shape[3] != config.imgSize()) {
            throw new PelaException(source + ": input has shape " + java.util.Arrays.toString(shape)
                    + " but the model needs [N, " + config.inChans() + ", " + config.imgSize() + ", "
                    + config.imgSize() + "]");
        }
    }
}
