package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.Losses;
import ai.pela.zoo.train.NativeMemory;
import ai.pela.zoo.train.NativeSetup;
import ai.pela.zoo.train.NonFiniteLossException;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.StepLosses;
import ai.pela.zoo.train.StepReport;
import ai.pela.zoo.train.TrainBatch;
import ai.pela.zoo.train.TrainStep;
import ai.pela.zoo.train.Trainable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The single-device PELA step for ALBEF (PELA's ALBEF/Pretrain.py): the frozen teacher's forward gives the hidden
 * states L_fd distils; the student's forward and backward on L = ITC + ITM + MLM + α·L_fd + β·L_rwp; clipping, the
 * scheduled learning rate and one AdamW update in place. Same surface as {@link PelaStep} (flat parameter and
 * optimiser export/import) so the parameter-averaging trainer can drive either.
 *
 * <p>Two differences from the released code, both on purpose: the teacher sees the student's masked captions (the
 * released code masks the teacher's batch independently, so its MLM-pass hidden states belong to other inputs),
 * and dropout is off in both models (SameDiff graphs here have none).
 *
 * <p>As a {@link TrainStep} it takes {@link AlbefTrainBatch}es and reports {@code loss}, {@code loss.itc},
 * {@code loss.itm}, {@code loss.mlm} and, with a teacher, {@code loss.fd} and (low-rank student) {@code loss.rwp}.
 */
public final class AlbefPelaStep implements TrainStep {
    /** Whose similarities the ITM hard negatives are drawn from. */
    public enum Negatives {
        /** ALBEF's rule: the student's own sim_i2t (one extra forward of its encoders per step). */
        STUDENT,
        /** The teacher's sim_i2t, which its forward computes anyway: no extra cost. */
        TEACHER
    }

    /** One step's loss terms (NaN for a term not computed), the gradient norm before clipping and the lr used. */
    public record AlbefLosses(double total, double base, double itc, double itm, double mlm, double fd, double rwp,
            double gradNorm, double lr) {
        public StepLosses toStepLosses() {
            return new StepLosses(total, base, fd, rwp, gradNorm, lr);
        }
    }

    public static final String TOTAL = "loss";
    public static final String FD = "loss.fd";
    public static final String RWP = "loss.rwp";
    private static final String TEACHER = "teacher.";
    /** The word-embedding rows fed to the graph; their gradients go into the table's (see WordEmbeddings). */
    private static final List<String> WORD_ROWS = List.of(AlbefGraph.TEXT_WORDS, AlbefGraph.MLM_WORDS);

    /** The loss terms and the gradient of every parameter (word-embedding lookups folded in). */
    public record Result(Map<String, INDArray> outputs, Map<String, INDArray> gradients) {
    }

    private final AlbefConfig config;
    private final StepHyper hyper;
    private final AlbefModel teacher;
    private final Negatives negatives;
    private final Random rng;
    private final int textLength;
    private final SameDiff sd;
    private final AlbefGraph.Handles student;
    private final Trainable trainable;
    private final List<String> outputs = new ArrayList<>();
    private final List<String> lossNames = new ArrayList<>();

    /**
     * @param studentWeights initial student checkpoint (copied; the caller's arrays are never modified)
     * @param teacher        the frozen teacher for L_fd (built for the same text length), or null for plain ALBEF
     * @param teacherWeights the teacher's dense weights, the W_k of L_rwp; null when there is no teacher
     * @param seed           seeds the hard-negative sampling
     */
    public AlbefPelaStep(AlbefConfig config, StateDict studentWeights, AlbefModel teacher, StateDict teacherWeights,
            StepHyper hyper, int textLength, Negatives negatives, long seed) {
        NativeSetup.configure();
        this.config = config;
        this.hyper = hyper;
        this.teacher = teacher;
        this.negatives = negatives;
        this.rng = new Random(seed);
        this.textLength = textLength;
        studentWeights.checkMatches("student checkpoint", AlbefLayout.parameterShapes(config));
        if (teacher == null && (hyper.alpha() != 0 || hyper.beta() != 0 || negatives == Negatives.TEACHER)) {
            throw new PelaException("alpha, beta and teacher negatives need a teacher");
        }
        if (teacher != null && teacher.textLength() != textLength) {
            throw new PelaException("the teacher was built for captions of length " + teacher.textLength()
                    + ", the student for " + textLength);
        }
        this.sd = SameDiff.create();
        this.student = AlbefGraph.build(sd, config, studentWeights, true, textLength);
        this.trainable = new Trainable(sd, List.copyOf(AlbefLayout.parameterShapes(config).keySet()), hyper);
        buildLoss(teacherWeights);
        lossNames.addAll(List.of(TOTAL, AlbefGraph.LOSS_ITC, AlbefGraph.LOSS_ITM, AlbefGraph.LOSS_MLM));
        outputs.stream().filter(o -> o.equals(FD) || o.equals(RWP)).forEach(lossNames::add);
    }

    private void buildLoss(StateDict teacherWeights) {
        SDVariable total = student.lossBase();
        outputs.addAll(List.of(AlbefGraph.LOSS_BASE, AlbefGraph.LOSS_ITC, AlbefGraph.LOSS_ITM, AlbefGraph.LOSS_MLM));
        if (teacher != null) {
            SDVariable fd = Losses.featureDistillation(sd, FD, student.hiddenStates(), teacherPlaceholders(),
                    hyper.fdForm());
            outputs.add(FD);
            if (hyper.alpha() != 0) {
                total = total.add(fd.mul(hyper.alpha()));
            }
            LowRankSpec lr = config.lowrank();
            if (lr != null && !lr.ranks().isEmpty()) {
                SDVariable rwp = Losses.weightPerturbation(sd, RWP, decomposed(lr, teacherWeights), hyper.rwpEps(),
                        hyper.rwpForm());
                outputs.add(RWP);
                if (hyper.beta() != 0) {
                    total = total.add(rwp.mul(hyper.beta()));
                }
            } else if (hyper.beta() != 0) {
                throw new PelaException("beta > 0 needs a low-rank student (L_rwp bounds decomposed weights)");
            }
        }
        sd.identity(TOTAL, total);
        outputs.add(0, TOTAL);
        sd.setLossVariables(TOTAL);
        List<String> differentiated = new ArrayList<>(trainable.order());
        differentiated.addAll(WORD_ROWS);
        GraphPelaStep.createGradFunctionQuietly(sd, differentiated.toArray(String[]::new));
    }

    /** One placeholder per student hidden state, shaped like it: the teacher's features, never differentiated. */
    private List<SDVariable> teacherPlaceholders() {
        List<SDVariable> t = new ArrayList<>();
        for (SDVariable s : student.hiddenStates()) {
            long tokens = s.name().startsWith("image_out") ? config.vision().numTokens() : textLength;
            long width = s.name().startsWith("image_out") ? config.vision().embedDim() : config.text().hiddenSize();
            t.add(sd.placeHolder(TEACHER + s.name(), DataType.FLOAT, -1, tokens, width));
        }
        return t;
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

    /**
     * Forward and backward without an update: the loss terms (keys {@link #TOTAL}, {@link #FD}, {@link #RWP} and
     * AlbefGraph's loss names) and the gradient of every parameter. The caller owns (and should close) the arrays.
     */
    public Result lossesAndGradients(AlbefBatch batch) {
        AlbefModel.clampTemperature(trainable.get(AlbefLayout.TEMP));
        Map<String, INDArray> teacherOut = teacher == null ? Map.of() : teacher.output(batch, teacherOutputs());
        if (batch.negImage() == null) {
            batch = withHardNegatives(batch, teacherOut.get(AlbefGraph.SIM_I2T));
        }
        Map<String, INDArray> ph = batch.placeholders(config, wordTable());
        if (teacher != null) {
            student.hiddenStateNames().forEach(name -> ph.put(TEACHER + name, teacherOut.get(name)));
        }
        List<String> wrt = new ArrayList<>(trainable.order());
        wrt.addAll(WORD_ROWS);
        OutAndGrad r = sd.calculateGradientsAndOutputs(ph, outputs, wrt);
        Map<String, INDArray> grads = new LinkedHashMap<>(r.getGradients());
        INDArray table = grads.get(AlbefLayout.WORD_EMBEDDINGS); // the tied decoder's part
        int pad = config.text().padTokenId();
        WordEmbeddings.accumulate(table, grads.remove(AlbefGraph.TEXT_WORDS), batch.inputIds(), pad);
        WordEmbeddings.accumulate(table, grads.remove(AlbefGraph.MLM_WORDS), batch.mlmInputIds(), pad);
        return new Result(r.getOutputs(), grads);
    }

    /** One optimisation step; a batch without negatives gets hard negatives drawn as {@link Negatives} says. */
    public AlbefLosses step(AlbefBatch batch) {
        Result r = lossesAndGradients(batch);
        Map<String, INDArray> out = r.outputs();
        Map<String, INDArray> grads = r.gradients();
        try {
            NonFiniteLossException.check(out, outputs);
            Trainable.Update u = trainable.update(grads);
            return new AlbefLosses(value(out, TOTAL), value(out, AlbefGraph.LOSS_BASE), value(out, AlbefGraph.LOSS_ITC),
                    value(out, AlbefGraph.LOSS_ITM), value(out, AlbefGraph.LOSS_MLM), value(out, FD), value(out, RWP),
                    u.gradNorm(), u.lr());
        } finally {
            NativeMemory.close(grads.values());
            NativeMemory.close(out.values());
            NativeMemory.forget(sd);
            if (teacher != null) {
                teacher.forgetLastRun();
            }
            NativeMemory.release();
        }
    }

    @Override
    public List<String> lossNames() {
        return List.copyOf(lossNames);
    }

    /** The trainer's entry: hard negatives drawn afresh from a generator seeded by the batch's seed. */
    @Override
    public StepReport step(TrainBatch batch) {
        if (!(batch instanceof AlbefTrainBatch b)) {
            throw new PelaException("the ALBEF step trains on image-caption batches, got a "
                    + batch.getClass().getSimpleName());
        }
        rng.setSeed(b.seed());
        AlbefLosses l = step(b.pairs());
        double[] values = new double[lossNames.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (lossNames.get(i)) {
                case TOTAL -> l.total();
                case AlbefGraph.LOSS_ITC -> l.itc();
                case AlbefGraph.LOSS_ITM -> l.itm();
                case AlbefGraph.LOSS_MLM -> l.mlm();
                case FD -> l.fd();
                default -> l.rwp();
            };
        }
        return new StepReport(values, l.gradNorm(), l.lr());
    }

    /** The teacher's hidden states, and its similarities when the negatives come from them. */
    private List<String> teacherOutputs() {
        List<String> names = new ArrayList<>(student.hiddenStateNames());
        if (negatives == Negatives.TEACHER) {
            names.add(AlbefGraph.SIM_I2T);
        }
        return names;
    }

    private AlbefBatch withHardNegatives(AlbefBatch batch, INDArray teacherSim) {
        INDArray sim = negatives == Negatives.TEACHER ? teacherSim
                : sd.output(batch.placeholders(config, wordTable()), AlbefGraph.SIM_I2T).get(AlbefGraph.SIM_I2T);
        HardNegatives.Choice c = HardNegatives.sample(sim, rng);
        return batch.withNegatives(c.negImage(), c.negText());
    }

    private INDArray wordTable() {
        return trainable.get(AlbefLayout.WORD_EMBEDDINGS);
    }

    private static double value(Map<String, INDArray> out, String key) {
        INDArray a = out.get(key);
        return a == null ? Double.NaN : a.getDouble(0);
    }

    public AlbefConfig config() {
        return config;
    }

    @Override
    public Trainable trainable() {
        return trainable;
    }
}
