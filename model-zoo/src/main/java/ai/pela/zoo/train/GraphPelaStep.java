package ai.pela.zoo.train;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.Losses;
import ai.pela.zoo.vit.VitGraph;
import ai.pela.zoo.vit.VitLayout;
import ai.pela.zoo.vit.VitModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The single-device PELA step on a SameDiff graph ({@link VitGraph}), as it ran before the engine: kept as the
 * oracle the engine's tests compare with and for side-by-side benchmarks ({@code bench-step --engine samediff}).
 * {@link PelaStep} is the one the service runs. The frozen teacher's forward (a separate constant-weight graph, so no gradient is
 * ever computed for it), then the student's forward and backward on L = L_base + α·L_fd + β·L_rwp, gradient
 * clipping, a learning rate from the schedule and one AdamW update of the student in place.
 */
public final class GraphPelaStep implements TrainStep {
    /** The components of {@link #step(TrainBatch)}'s report, the order of {@link StepLosses}. */
    public static final List<String> LOSS_NAMES = PelaStep.LOSS_NAMES;

    public static final String TARGETS = "targets";
    private static final String TOTAL = "loss";
    private static final String BASE = "loss.base";
    private static final String FD = "loss.fd";
    private static final String RWP = "loss.rwp";

    private final ModelConfig config;
    private final StepHyper hyper;
    private final VitModel teacher;
    private final SameDiff sd;
    private final VitGraph.Handles student;
    private final Trainable trainable;
    private final List<String> outputs = new ArrayList<>();

    /**
     * @param studentWeights initial student checkpoint (copied; the caller's arrays are never modified)
     * @param teacher        the frozen teacher for L_fd, or null for plain supervised training
     * @param teacherWeights the teacher's dense weights, the W_k of L_rwp; null when there is no teacher
     */
    public GraphPelaStep(ModelConfig config, StateDict studentWeights, VitModel teacher, StateDict teacherWeights,
            StepHyper hyper) {
        NativeSetup.configure();
        this.config = config;
        this.hyper = hyper;
        this.teacher = teacher;
        PelaStep.checkArguments(config, studentWeights, teacher, hyper);
        if (hyper.fdPoints() != ai.pela.zoo.loss.FdPoints.BLOCKS) {
            throw new PelaException("the SameDiff PELA step distils every block's output (fd-points = blocks); "
                    + "fd-points = final runs on the engine (PelaStep)");
        }
        this.sd = SameDiff.create();
        this.student = VitGraph.build(sd, config, studentWeights, true);
        this.trainable = new Trainable(sd, List.copyOf(VitLayout.parameterShapes(config).keySet()), hyper);
        buildLoss(teacherWeights);
    }

    private void buildLoss(StateDict teacherWeights) {
        SDVariable targets = sd.placeHolder(TARGETS, DataType.FLOAT, -1, config.numClasses());
        SDVariable total = Losses.crossEntropy(sd, BASE, student.logits(), targets);
        outputs.add(BASE);
        if (teacher != null) {
            SDVariable fd = Losses.featureDistillation(sd, FD, student.blockOutputs(), teacherFeaturePlaceholders(),
                    hyper.fdForm());
            outputs.add(FD);
            if (hyper.alpha() != 0) {
                total = total.add(fd.mul(hyper.alpha()));
            }
            if (config.lowrank() != null && !config.lowrank().ranks().isEmpty()) {
                SDVariable rwp = Losses.weightPerturbation(sd, RWP, decomposed(config.lowrank(), teacherWeights),
                        hyper.rwpEps(), hyper.rwpForm());
                outputs.add(RWP);
                if (hyper.beta() != 0) {
                    total = total.add(rwp.mul(hyper.beta()));
                }
            } else if (hyper.beta() != 0) {
                throw new PelaException("beta > 0 needs a low-rank student (L_rwp bounds decomposed weights)");
            }
        }
        total = sd.identity(TOTAL, total);
        outputs.add(0, TOTAL);
        sd.setLossVariables(total);
        createGradFunctionQuietly(sd);
    }

    /**
     * Builds the backward graph now rather than on the first step. SameDiff 1.0.0-M2.1 prints one line per
     * differentiated op to System.out while doing so (hundreds of lines for a ViT), which would bury the CLI's
     * output and the executors' logs, so stdout is silenced for that call.
     *
     * @param placeholdersToDifferentiate placeholders whose gradients are wanted too (variables always get theirs)
     */
    public static void createGradFunctionQuietly(SameDiff sd, String... placeholdersToDifferentiate) {
        synchronized (System.class) {
            java.io.PrintStream stdout = System.out;
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            try {
                if (placeholdersToDifferentiate.length == 0) {
                    sd.createGradFunction();
                } else {
                    sd.createGradFunction(placeholdersToDifferentiate);
                }
            } finally {
                System.setOut(stdout);
            }
        }
    }

    private List<SDVariable> teacherFeaturePlaceholders() {
        List<SDVariable> t = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            t.add(sd.placeHolder(teacherFeature(i), DataType.FLOAT, -1, config.numTokens(), config.embedDim()));
        }
        return t;
    }

    private static String teacherFeature(int i) {
        return "teacher.feature." + i;
    }

    private List<Losses.Decomposed> decomposed(LowRankSpec spec, StateDict teacherWeights) {
        List<Losses.Decomposed> out = new ArrayList<>();
        for (String linear : spec.ranks().keySet()) {
            INDArray w = teacherWeights.get(linear + ".weight").castTo(DataType.FLOAT);
            out.add(new Losses.Decomposed(sd.getVariable(linear + ".0.weight"), sd.getVariable(linear + ".1.weight"),
                    sd.constant("rwp.W." + linear, w)));
        }
        return out;
    }

    /** One optimisation step on a batch of normalised images [N, C, H, W] with integer labels. */
    public StepLosses step(INDArray images, int[] labels) {
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(VitGraph.INPUT, images);
        ph.put(TARGETS, Losses.smoothedTargets(labels, config.numClasses(), hyper.labelSmoothing()));
        if (teacher != null) {
            List<INDArray> feats = teacher.forward(images).features();
            for (int i = 0; i < feats.size(); i++) {
                ph.put(teacherFeature(i), feats.get(i));
            }
        }
        OutAndGrad r = sd.calculateGradientsAndOutputs(ph, outputs, trainable.order());
        Map<String, INDArray> out = r.getOutputs();
        Map<String, INDArray> grads = r.getGradients();
        try {
            NonFiniteLossException.check(out, outputs);
            Trainable.Update u = trainable.update(grads);
            return new StepLosses(value(out, TOTAL), value(out, BASE), value(out, FD), value(out, RWP), u.gradNorm(),
                    u.lr());
        } finally {
            NativeMemory.close(grads.values());
            NativeMemory.close(out.values());
            ph.values().stream().filter(a -> a != images).forEach(INDArray::close);
            NativeMemory.forget(sd);
            if (teacher != null) {
                teacher.forgetLastRun();
            }
            NativeMemory.release();
        }
    }

    @Override
    public List<String> lossNames() {
        return LOSS_NAMES;
    }

    /** {@link #step(INDArray, int[])} on a {@link LabelledImages} batch, its losses in {@link #LOSS_NAMES} order. */
    @Override
    public StepReport step(TrainBatch batch) {
        return PelaStep.onLabelledImages(batch, this::step);
    }

    private static double value(Map<String, INDArray> out, String key) {
        INDArray a = out.get(key);
        return a == null ? Double.NaN : a.getDouble(0);
    }

    /** The student's logits for a batch (no gradient bookkeeping). */
    public INDArray logits(INDArray images) {
        return sd.output(Map.of(VitGraph.INPUT, images), student.logits().name()).get(student.logits().name());
    }

    /** Attaches SameDiff listeners to the student's graph (e.g. its ProfilingListener). */
    public void addListeners(org.nd4j.autodiff.listeners.Listener... listeners) {
        sd.addListeners(listeners);
    }

    public ModelConfig config() {
        return config;
    }

    @Override
    public Trainable trainable() {
        return trainable;
    }
}
