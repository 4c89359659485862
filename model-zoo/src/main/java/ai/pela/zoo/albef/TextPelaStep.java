package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.Losses;
import ai.pela.zoo.text.TokenBatch;
import ai.pela.zoo.train.NativeMemory;
import ai.pela.zoo.train.NativeSetup;
import ai.pela.zoo.train.NonFiniteLossException;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.Trainable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * PELA's distillation of a text encoder on its own: L = α·L_fd + β·L_rwp with the same loss code as
 * {@link AlbefPelaStep} (L_fd over {@code text_out.0..N}, the embedding output and every layer; L_rwp over every
 * decomposed Linear against the teacher's dense weight), AdamW, clipping and the schedule. There is no L_base: a
 * sentence encoder such as all-MiniLM-L6-v2 ships without its pre-training heads.
 *
 * <p>The word-embedding table stays the teacher's: it is a lookup PELA never decomposes, and a short distillation
 * on a few hundred sentences would only move the rows of the words it happens to see. Every other parameter
 * (position and token-type embeddings, LayerNorms, biases, the low-rank factors) trains.
 */
public final class TextPelaStep {
    /** One step's loss terms, the gradient norm before clipping and the learning rate used. */
    public record TextLosses(double total, double fd, double rwp, double gradNorm, double lr) {
    }

    private static final String TOTAL = "loss";
    private static final String TEACHER = "teacher.";

    private final BertConfig config;
    private final LowRankSpec lowrank;
    private final StepHyper hyper;
    private final TextEncoderModel teacher;
    private final INDArray wordTable;
    private final int length;
    private final SameDiff sd = SameDiff.create();
    private final TextEncoder.Handles student;
    private final Trainable trainable;
    private final List<String> outputs = new ArrayList<>(List.of(TOTAL, AlbefPelaStep.FD));

    /**
     * @param studentWeights the low-rank student (copied), e.g. from {@code LowRank.decompose}
     * @param teacher        the frozen dense teacher, built for the same text length
     * @param teacherWeights its weights: the W_k of L_rwp
     */
    public TextPelaStep(BertConfig config, LowRankSpec lowrank, StateDict studentWeights, TextEncoderModel teacher,
            StateDict teacherWeights, StepHyper hyper) {
        NativeSetup.configure();
        if (lowrank == null || lowrank.ranks().isEmpty()) {
            throw new PelaException("the text student has no decomposed Linear; PELA distils a low-rank student");
        }
        studentWeights.checkMatches("text student", BertTextLayout.parameterShapes(config, lowrank));
        this.config = config;
        this.lowrank = lowrank;
        this.hyper = hyper;
        this.teacher = teacher;
        this.length = teacher.length();
        this.wordTable = studentWeights.get(AlbefLayout.WORD_EMBEDDINGS).castTo(DataType.FLOAT);
        this.student = TextEncoder.build(sd, config, lowrank, studentWeights, true, length);
        this.trainable = new Trainable(sd, student.parameterNames(), hyper);
        buildLoss(teacherWeights);
    }

    private void buildLoss(StateDict teacherWeights) {
        List<SDVariable> fromTeacher = new ArrayList<>();
        for (String name : student.hiddenStateNames()) {
            fromTeacher.add(sd.placeHolder(TEACHER + name, DataType.FLOAT, -1, length, config.hiddenSize()));
        }
        SDVariable fd = Losses.featureDistillation(sd, AlbefPelaStep.FD, student.hiddenStates(), fromTeacher,
                hyper.fdForm());
        SDVariable total = fd.mul(hyper.alpha());
        List<Losses.Decomposed> decomposed = new ArrayList<>();
        for (String linear : lowrank.ranks().keySet()) {
            decomposed.add(new Losses.Decomposed(sd.getVariable(linear + ".0.weight"),
                    sd.getVariable(linear + ".1.weight"),
                    sd.constant("rwp.W." + linear, teacherWeights.get(linear + ".weight").castTo(DataType.FLOAT))));
        }
        SDVariable rwp = Losses.weightPerturbation(sd, AlbefPelaStep.RWP, decomposed, hyper.rwpEps(), hyper.rwpForm());
        outputs.add(AlbefPelaStep.RWP);
        if (hyper.beta() != 0) {
            total = total.add(rwp.mul(hyper.beta()));
        }
        sd.identity(TOTAL, total);
        sd.setLossVariables(TOTAL);
        GraphPelaStep.createGradFunctionQuietly(sd);
    }

    /** One optimisation step on a batch of this step's text length. */
    public TextLosses step(TokenBatch batch) {
        Map<String, INDArray> ph = TextEncoder.placeholders(batch, wordTable, length);
        Map<String, INDArray> t = teacher.outputs(batch, student.hiddenStateNames());
        t.forEach((name, value) -> ph.put(TEACHER + name, value));
        OutAndGrad r = sd.calculateGradientsAndOutputs(ph, outputs, trainable.order());
        Map<String, INDArray> out = r.getOutputs();
        Map<String, INDArray> grads = r.getGradients();
        try {
            NonFiniteLossException.check(out, outputs);
            Trainable.Update u = trainable.update(grads);
            return new TextLosses(out.get(TOTAL).getDouble(0), out.get(AlbefPelaStep.FD).getDouble(0),
                    out.get(AlbefPelaStep.RWP).getDouble(0), u.gradNorm(), u.lr());
        } finally {
            NativeMemory.forget(sd);
            teacher.forgetLastRun();
            NativeMemory.release();
        }
    }

    /** The student's current weights (word embeddings included) as a checkpoint. */
    public StateDict stateDict() {
        StateDict s = new StateDict();
        BertTextLayout.parameterShapes(config, lowrank).keySet().forEach(k ->
                s.put(k, k.equals(AlbefLayout.WORD_EMBEDDINGS) ? wordTable.dup() : trainable.get(k).dup()));
        return s;
    }
}
