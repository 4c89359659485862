package ai.pela.zoo.train;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.engine.EngineLosses;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Vit;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.vit.VitLayout;
import ai.pela.zoo.vit.VitModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The single-device PELA step on the engine: the frozen teacher's forward (its block outputs, or its pooled feature
 * with {@link FdPoints#FINAL}, copied into this step's buffers), the student's forward, L = L_base + α·L_fd +
 * β·L_rwp with every term's gradient computed in the same pass as its value, the student's backward into one flat
 * gradient vector, then clipping, the schedule's learning rate and one AdamW update of the flat parameter vector.
 *
 * <p>Every buffer is allocated once per batch size ({@link Vit.Activations}); a steady-state step allocates
 * nothing but a few small objects.
 */
public final class PelaStep implements TrainStep {
    /** The components of {@link #step(TrainBatch)}'s report, the order of {@link StepLosses}. */
    public static final List<String> LOSS_NAMES = List.of("loss", "loss.base", "loss.fd", "loss.rwp");

    private final ModelConfig config;
    private final StepHyper hyper;
    private final VitModel teacher;
    private final Kernels kernels = Kernels.forBackend();
    private final ParamSet params;
    private final Vit student;
    private final Trainable trainable;
    private final EngineLosses.WeightPerturbation rwp;
    private Buffers buffers;

    /** The buffers of one batch size: the student's activations, the teacher's features, the logits' gradient. */
    private record Buffers(Vit.Activations student, List<INDArray> teacherFeatures, INDArray dLogits,
            EngineLosses.FeatureDistillation fd) {
    }

    /**
     * @param studentWeights initial student checkpoint (copied; the caller's arrays are never modified)
     * @param teacher        the frozen teacher for L_fd, or null for plain supervised training
     * @param teacherWeights the teacher's dense weights, the W_k of L_rwp; null when there is no teacher
     */
    public PelaStep(ModelConfig config, StateDict studentWeights, VitModel teacher, StateDict teacherWeights,
            StepHyper hyper) {
        NativeSetup.configure();
        this.config = config;
        this.hyper = hyper;
        this.teacher = teacher;
        checkArguments(config, studentWeights, teacher, hyper);
        this.params = ParamSet.of(VitLayout.parameterShapes(config), studentWeights, true);
        this.student = new Vit(config, params, kernels);
        this.trainable = new Trainable(params, hyper);
        this.rwp = StepCore.weightPerturbation(params, config.lowrank(), teacher != null, teacherWeights, hyper,
                kernels);
    }

    /** What both PELA steps (this one and {@link GraphPelaStep}) require of their arguments. */
    static void checkArguments(ModelConfig config, StateDict studentWeights, VitModel teacher, StepHyper hyper) {
        StepCore.checkArguments(config.hasHead(), studentWeights, VitLayout.parameterShapes(config), teacher != null,
                hyper);
    }

    private Buffers buffers(int batch) {
        if (buffers == null || buffers.student().batchSize() != batch) {
            buffers = null; // let the previous batch size's buffers go before taking the new ones
            List<INDArray> features = new ArrayList<>();
            boolean blocks = hyper.fdPoints() == FdPoints.BLOCKS;
            for (int i = 0; teacher != null && i < (blocks ? config.depth() : 1); i++) {
                features.add(blocks ? Nd4j.create(DataType.FLOAT, (long) batch * config.numTokens(), config.embedDim())
                        : Nd4j.create(DataType.FLOAT, batch, config.embedDim()));
            }
            buffers = new Buffers(student.activations(batch), features,
                    Nd4j.create(DataType.FLOAT, batch, config.numClasses()),
                    teacher == null ? null : new EngineLosses.FeatureDistillation(features, hyper.fdForm(), hyper.alpha(), batch, kernels));
        }
        return buffers;
    }

    /** One optimisation step on a batch of normalised images [N, C, H, W] with integer labels. */
    public StepLosses step(INDArray images, int[] labels) {
        return StepCore.update(lossesAndGradients(images, labels), teacher != null, rwp != null, trainable);
    }

    /** The loss components of one forward; fd and rwp are NaN where the step has no such term. */
    public record Losses(double total, double base, double fd, double rwp) {
    }

    /**
     * Forward and backward without the update: the loss components, with every parameter's gradient of the total
     * in {@link #gradients()}.
     */
    public Losses lossesAndGradients(INDArray images, int[] labels) {
        VitModel.checkInputShape(config, images.shape(), "batch");
        Losses[] out = new Losses[1];
        kernels.pass(() -> out[0] = forwardAndBackward(images, labels, buffers((int) images.size(0))));
        return out[0];
    }

    private Losses forwardAndBackward(INDArray images, int[] labels, Buffers b) {
        if (teacher != null) {
            teacher.features(images, b.teacherFeatures(), hyper.fdPoints());
            b.fd().reset();
        }
        student.forward(b.student(), images, null);
        double base = EngineLosses.crossEntropy(b.student().logits(), labels, hyper.labelSmoothing(), b.dLogits());
        student.backward(b.student(), b.dLogits(), b.fd(), hyper.fdPoints());
        return StepCore.losses(base, b.fd(), rwp, hyper);
    }

    /** Every parameter's gradient from the last {@link #lossesAndGradients} (live views, in checkpoint order). */
    public Map<String, INDArray> gradients() {
        return params.grads();
    }

    @Override
    public List<String> lossNames() {
        return LOSS_NAMES;
    }

    /** {@link #step(INDArray, int[])} on a {@link LabelledImages} batch, its losses in {@link #LOSS_NAMES} order. */
    @Override
    public StepReport step(TrainBatch batch) {
        return onLabelledImages(batch, this::step);
    }

    /** A classification step's {@link TrainBatch} entry, shared with {@link GraphPelaStep}. */
    static StepReport onLabelledImages(TrainBatch batch, java.util.function.BiFunction<INDArray, int[], StepLosses> step) {
        if (!(batch instanceof LabelledImages b)) {
            throw new PelaException("the PELA / classification step trains on labelled images, got a "
                    + batch.getClass().getSimpleName());
        }
        StepLosses l = step.apply(b.images(), b.labels());
        return new StepReport(new double[] {l.total(), l.base(), l.fd(), l.rwp()}, l.gradNorm(), l.lr());
    }

    /** The student's logits for a batch (a copy). */
    public INDArray logits(INDArray images) {
        VitModel.checkInputShape(config, images.shape(), "batch");
        Buffers b = buffers((int) images.size(0));
        student.forward(b.student(), images, null);
        return b.student().logits().dup();
    }

    public ModelConfig config() {
        return config;
    }

    @Override
    public Trainable trainable() {
        return trainable;
    }
}
