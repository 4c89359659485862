package ai.pela.zoo.train;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.engine.EngineLosses;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Swin;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link PelaStep} for the Swin family: the frozen teacher's features at the step's L_fd points (every block's
 * output, or the final pooled feature as PELA's released Swin code distils), the student's forward, CE + α·L_fd
 * + β·L_rwp with each gradient computed with its value, the backward into one flat gradient vector, then
 * clipping, the schedule and AdamW. Same semantics and report as PelaStep.
 */
public final class SwinPelaStep implements TrainStep {
    private final SwinConfig config;
    private final StepHyper hyper;
    private final SwinModel teacher;
    private final Kernels kernels = Kernels.forBackend();
    private final ParamSet params;
    private final Swin student;
    private final Trainable trainable;
    private final EngineLosses.WeightPerturbation rwp;
    private Buffers buffers;

    private record Buffers(Swin.Activations student, List<INDArray> teacherFeatures, INDArray dLogits,
            EngineLosses.FeatureDistillation fd) {
    }

    /**
     * @param studentWeights initial student checkpoint (copied; the caller's arrays are never modified)
     * @param teacher        the frozen teacher for L_fd, or null for plain supervised training
     * @param teacherWeights the teacher's dense weights, the W_k of L_rwp; null when there is no teacher
     */
    public SwinPelaStep(SwinConfig config, StateDict studentWeights, SwinModel teacher, StateDict teacherWeights,
            StepHyper hyper) {
        NativeSetup.configure();
        config.validate("student config");
        this.config = config;
        this.hyper = hyper;
        this.teacher = teacher;
        checkArguments(studentWeights);
        this.params = ParamSet.of(SwinLayout.parameterShapes(config), studentWeights, true);
        this.student = new Swin(config, params, kernels);
        this.trainable = new Trainable(params, hyper);
        this.rwp = StepCore.weightPerturbation(params, config.lowrank(), teacher != null, teacherWeights, hyper,
                kernels);
    }

    private void checkArguments(StateDict studentWeights) {
        StepCore.checkArguments(config.hasHead(), studentWeights, SwinLayout.parameterShapes(config), teacher != null,
                hyper);
        if (teacher != null) {
            SwinConfig t = teacher.config();
            boolean sameShape = t.imgSize() == config.imgSize() && t.patchSize() == config.patchSize()
                    && t.inChans() == config.inChans() && t.embedDim() == config.embedDim()
                    && t.depths().equals(config.depths()) && t.windowSize() == config.windowSize();
            if (!sameShape) {
                throw new PelaException("the Swin teacher's geometry (img " + t.imgSize() + ", patch " + t.patchSize()
                        + ", embed " + t.embedDim() + ", depths " + t.depths() + ", window " + t.windowSize()
                        + ") differs from the student's (img " + config.imgSize() + ", patch " + config.patchSize()
                        + ", embed " + config.embedDim() + ", depths " + config.depths() + ", window "
                        + config.windowSize() + "): L_fd compares their features point by point");
            }
        }
    }

    private Buffers buffers(int batch) {
        if (buffers == null || buffers.student().batchSize() != batch) {
            buffers = null; // let the previous batch size's buffers go before taking the new ones
            List<INDArray> features = new ArrayList<>();
            if (teacher != null) {
                for (long[] shape : student.featureShapes(batch, hyper.fdPoints())) {
                    features.add(Nd4j.create(DataType.FLOAT, shape, 'c'));
                }
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

    /**
     * Forward and backward without the update: the loss components (fd and rwp NaN where the step has no such
     * term), with every parameter's gradient of the total in {@link #gradients()}.
     */
    public PelaStep.Losses lossesAndGradients(INDArray images, int[] labels) {
        SwinModel.checkInputShape(config, images.shape(), "batch");
        PelaStep.Losses[] out = new PelaStep.Losses[1];
        kernels.pass(() -> out[0] = forwardAndBackward(images, labels, buffers((int) images.size(0))));
        return out[0];
    }

    private PelaStep.Losses forwardAndBackward(INDArray images, int[] labels, Buffers b) {
        FdPoints points = hyper.fdPoints();
        if (teacher != null) {
            teacher.features(images, b.teacherFeatures(), points);
            b.fd().reset();
        }
        student.forward(b.student(), images, null, points);
        double base = EngineLosses.crossEntropy(b.student().logits(), labels, hyper.labelSmoothing(), b.dLogits());
        student.backward(b.student(), b.dLogits(), b.fd(), points);
        return StepCore.losses(base, b.fd(), rwp, hyper);
    }

    /** Every parameter's gradient from the last {@link #lossesAndGradients} (live views, in checkpoint order). */
    public Map<String, INDArray> gradients() {
        return params.grads();
    }

    @Override
    public List<String> lossNames() {
        return PelaStep.LOSS_NAMES;
    }

    /** {@link #step(INDArray, int[])} on a {@link LabelledImages} batch, its losses in {@link PelaStep#LOSS_NAMES} order. */
    @Override
    public StepReport step(TrainBatch batch) {
        return PelaStep.onLabelledImages(batch, this::step);
    }

    /** The student's logits for a batch (a copy). */
    public INDArray logits(INDArray images) {
        SwinModel.checkInputShape(config, images.shape(), "batch");
        Buffers b = buffers((int) images.size(0));
        student.forward(b.student(), images, null);
        return b.student().logits().dup();
    }

    public SwinConfig config() {
        return config;
    }

    @Override
    public Trainable trainable() {
        return trainable;
    }
}
