package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.NativeMemory;
import ai.pela.zoo.train.NativeSetup;
import ai.pela.zoo.train.NonFiniteLossException;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.StepReport;
import ai.pela.zoo.train.TrainBatch;
import ai.pela.zoo.train.TrainStep;
import ai.pela.zoo.train.Trainable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fine-tuning a backbone and a dense head together: forward, the head's loss (pixel cross-entropy for UperNet;
 * focal + GIoU + centerness for FCOS, with targets assigned on this device), backward through head and backbone,
 * gradient clipping, and the same AdamW and schedule as {@link ai.pela.zoo.train.PelaStep}.
 */
public final class DenseStep implements TrainStep {
    static final List<String> SEG_LOSSES = List.of("loss", "loss.ce");
    static final List<String> DET_LOSSES = List.of("loss", "loss.cls", "loss.bbox", "loss.centerness");

    private final ModelConfig backbone;
    private final HeadConfig head;
    private final SameDiff sd;
    private final Trainable trainable;
    private final List<String> lossNames;
    private final FcosTargets.Points points;
    private final double backboneLrScale;

    /** A step that trains backbone and head at the same learning rate. */
    public DenseStep(ModelConfig backbone, HeadConfig head, StateDict initial, StepHyper hyper) {
        this(backbone, head, initial, hyper, 1.0);
    }

    /**
     * @param initial         the dense model's checkpoint (copied; matches {@link DenseModel#parameterShapes})
     * @param backboneLrScale the backbone's learning rate as a fraction of the head's: a pretrained backbone
     *                        under a randomly initialised head loses its features at the head's rate
     */
    public DenseStep(ModelConfig backbone, HeadConfig head, StateDict initial, StepHyper hyper, double backboneLrScale) {
        NativeSetup.configure();
        this.backboneLrScale = backboneLrScale;
        this.backbone = backbone;
        this.head = head;
        Map<String, long[]> shapes = DenseModel.parameterShapes(backbone, head);
        initial.checkMatches("dense model checkpoint", shapes);
        this.sd = SameDiff.create();
        DenseModel.Built built = DenseModel.build(sd, backbone, head, initial, true);
        this.trainable = new Trainable(sd, List.copyOf(shapes.keySet()), hyper);
        SDVariable total;
        if (built.segLogits() != null) {
            total = DenseLosses.segmentation(sd, "loss.ce", built.segLogits());
            total = sd.identity("loss", total);
            this.lossNames = SEG_LOSSES;
            this.points = null;
        } else {
            FcosConfig f = (FcosConfig) head;
            total = DenseLosses.fcos(sd, "loss", built.detection(), f.numClasses(), f.focalAlpha(), f.focalGamma());
            this.lossNames = DET_LOSSES;
            this.points = FcosTargets.points(f, backbone);
        }
        sd.setLossVariables(total);
        GraphPelaStep.createGradFunctionQuietly(sd);
    }

    @Override
    public List<String> lossNames() {
        return lossNames;
    }

    @Override
    public StepReport step(TrainBatch batch) {
        Map<String, INDArray> ph = placeholders(batch);
        OutAndGrad r = sd.calculateGradientsAndOutputs(ph, lossNames, trainable.order());
        Map<String, INDArray> out = r.getOutputs();
        Map<String, INDArray> grads = r.getGradients();
        try {
            NonFiniteLossException.check(out, lossNames);
            double[] losses = lossNames.stream().mapToDouble(n -> out.get(n).getDouble(0)).toArray();
            Trainable.Update u = trainable.update(grads, n -> n.startsWith(Backbone.PREFIX) ? backboneLrScale : 1.0);
            return new StepReport(losses, u.gradNorm(), u.lr());
        } finally {
            NativeMemory.close(grads.values());
            NativeMemory.close(out.values());
            ph.values().stream().filter(a -> a != batch.images()).forEach(INDArray::close);
            NativeMemory.forget(sd);
            NativeMemory.release();
        }
    }

    /** Loss components and the gradients of {@code names}, without updating anything (for tests). */
    Map<String, INDArray> lossAndGradients(TrainBatch batch, List<String> names) {
        // All gradients are computed, as a step does: asking SameDiff M2.1 for a subset fails in strided_slice_bp.
        OutAndGrad r = sd.calculateGradientsAndOutputs(placeholders(batch), lossNames, trainable.order());
        Map<String, INDArray> all = new HashMap<>(r.getOutputs());
        for (String n : names) {
            all.put("grad." + n, r.getGradients().get(n));
        }
        return all;
    }

    private Map<String, INDArray> placeholders(TrainBatch batch) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(DenseModel.INPUT, batch.images());
        if (points == null) {
            if (!(batch instanceof SegBatch s)) {
                throw new PelaException("the segmentation step trains on label maps, got a " + batch.getClass().getSimpleName());
            }
            ph.put(DenseLosses.SEG_TARGETS, oneHot(s.labels(), head.numClasses()));
        } else {
            if (!(batch instanceof DetBatch d)) {
                throw new PelaException("the detection step trains on boxes, got a " + batch.getClass().getSimpleName());
            }
            ph.putAll(FcosTargets.placeholders(d.boxes(), points, (FcosConfig) head));
        }
        return ph;
    }

    /** One-hot rows per pixel; ignored pixels get a zero row, so they add nothing to loss or count. */
    static INDArray oneHot(int[] labels, int classes) {
        float[] t = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            int l = labels[i];
            if (l == SegBatch.IGNORE) {
                continue;
            }
            if (l < 0 || l >= classes) {
                throw new PelaException("label " + l + " is not a class of the head (0.." + (classes - 1) + ") nor "
                        + SegBatch.IGNORE);
            }
            t[i * classes + l] = 1f;
        }
        return Nd4j.create(t, new long[] {labels.length, classes}, 'c');
    }

    /** Attaches SameDiff listeners to the graph (e.g. its ProfilingListener). */
    public void addListeners(org.nd4j.autodiff.listeners.Listener... listeners) {
        sd.addListeners(listeners);
    }

    public ModelConfig backbone() {
        return backbone;
    }

    public HeadConfig head() {
        return head;
    }

    @Override
    public Trainable trainable() {
        return trainable;
    }
}
