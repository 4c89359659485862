package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.InputMoments;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.EmbeddingAgreement;
import ai.pela.zoo.text.FashionCaptions;
import ai.pela.zoo.text.TokenBatch;
import ai.pela.zoo.vit.LinearSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 24 on the real pretrained text teacher: the naive (SVD only, no training) κ=3 students of all-MiniLM-L6-v2
 * under plain and activation-aware SVD, uniform and budget ranks at the same parameters, compared with the teacher
 * on the held-out sentences of {@link MiniLmDistillationTest}. Calibration: the 384 training captions through the
 * teacher, each Linear's input RMS per channel over the real (unpadded) tokens.
 */
class MiniLmActivationAwareTest {
    private static final Logger LOG = LoggerFactory.getLogger(MiniLmActivationAwareTest.class);
    private static final int LENGTH = 16;
    private static final int BATCH = 16;
    private static final int TRAIN = 384;
    private static final int HELD_OUT = 96;

    @Test
    void activationAwareSvdAndTheBudgetBringTheNaiveStudentsCloserToTheTeacher() throws IOException {
        BertConfig config = MiniLm.config();
        StateDict teacherWeights = MiniLm.load();
        TextEncoderModel teacher = TextEncoderModel.create(config, null, teacherWeights, LENGTH, "teacher");
        List<String> captions = FashionCaptions.generate(TRAIN + HELD_OUT, 5);
        List<String> heldOut = new ArrayList<>(captions.subList(TRAIN, TRAIN + HELD_OUT));
        heldOut.addAll(MiniLmDistillationTest.naturalSentences());
        Map<String, INDArray> scales = calibrate(teacher, captions.subList(0, TRAIN));
        List<LinearSpec> linears = BertTextLayout.linears(config, LENGTH);
        float[][] t = MiniLmDistillationTest.embed(teacher, heldOut);

        RankPolicy uniform = new RankPolicy.Uniform(3);
        RankPolicy budget = new RankPolicy.Budget(share(linears, LowRank.plan(linears, 3, LowRank.ALBEF_OMIT)));
        Map<String, EmbeddingAgreement> rows = new LinkedHashMap<>();
        for (RankPolicy policy : List.of(uniform, budget)) {
            for (boolean aware : new boolean[] {false, true}) {
                Map<String, INDArray> s = aware ? scales : Map.of();
                LowRankSpec spec = LowRank.plan(linears, teacherWeights, policy, LowRank.ALBEF_OMIT, s);
                TextEncoderModel student = TextEncoderModel.create(config, spec, LowRank.decompose(teacherWeights, spec, s),
                        LENGTH, "student");
                String name = (policy == uniform ? "uniform" : "budget ") + (aware ? " activation-aware" : " plain") + " ("
                        + params(linears, spec) + " Linear params)";
                rows.put(name, EmbeddingAgreement.of(t, MiniLmDistillationTest.embed(student, heldOut)));
            }
        }
        // Ranks from the plain spectra, factors activation-aware: does the budget then add to activation-aware SVD?
        LowRankSpec plainBudget = LowRank.plan(linears, teacherWeights, budget, LowRank.ALBEF_OMIT, Map.of());
        TextEncoderModel mixed = TextEncoderModel.create(config, plainBudget,
                LowRank.decompose(teacherWeights, plainBudget, scales), LENGTH, "student");
        rows.put("budget on plain spectra, activation-aware factors (" + params(linears, plainBudget) + " Linear params)",
                EmbeddingAgreement.of(t, MiniLmDistillationTest.embed(mixed, heldOut)));
        StringBuilder log = new StringBuilder("MiniLM naive κ=3 students, " + heldOut.size() + " held-out sentences:");
        rows.forEach((k, v) -> log.append("\n  ").append(k).append(": ").append(v));
        LOG.info(log.toString());

        // Measured (deterministic): uniform plain cos 0.304 / top-1 41.2 %, uniform activation-aware 0.468 / 57.9 %,
        // budget plain 0.333 / 51.8 %, budget activation-aware 0.472 / 58.8 %, budget on plain spectra with
        // activation-aware factors 0.410 / 57.0 %. Asserted with margins: activation-aware SVD helps the uniform
        // student, the budget helps the plain one, and activation-aware helps the budget one (see README).
        List<EmbeddingAgreement> r = List.copyOf(rows.values());
        assertThat(r.get(1).meanCosine()).as("uniform: activation-aware vs plain").isGreaterThan(r.get(0).meanCosine() + 0.1);
        assertThat(r.get(1).top1()).as("uniform: activation-aware vs plain").isGreaterThan(r.get(0).top1() + 0.1);
        assertThat(r.get(2).top1()).as("plain: budget vs uniform").isGreaterThan(r.get(0).top1() + 0.05);
        assertThat(r.get(3).meanCosine()).as("budget: activation-aware vs plain").isGreaterThan(r.get(2).meanCosine() + 0.1);
    }

    /** Each Linear's input RMS per channel over the real tokens of {@code texts}, run through the teacher. */
    private static Map<String, INDArray> calibrate(TextEncoderModel teacher, List<String> texts) {
        BertTokenizer tok = BertTokenizer.bertBaseUncased();
        InputMoments moments = new InputMoments();
        for (int i = 0; i < texts.size(); i += BATCH) {
            TokenBatch b = tok.encodeBatch(texts.subList(i, Math.min(texts.size(), i + BATCH)), LENGTH,
                    BertTokenizer.Padding.MAX_LENGTH);
            int[] real = realRows(b);
            teacher.linearInputs(b).forEach((linear, x) -> {
                INDArray rows = x.reshape(-1, x.size(x.rank() - 1));
                moments.observe(linear, rows.getRows(real));
            });
        }
        return moments.scales();
    }

    private static int[] realRows(TokenBatch b) {
        return java.util.stream.IntStream.range(0, b.mask().length).filter(i -> b.mask()[i] == 1).toArray();
    }

    private static double share(List<LinearSpec> linears, LowRankSpec spec) {
        return (double) params(linears, spec) / linears.stream().filter(l -> spec.isDecomposed(l.name()))
                .mapToLong(l -> (long) l.dIn() * l.dOut()).sum();
    }

    private static long params(List<LinearSpec> linears, LowRankSpec spec) {
        return linears.stream().filter(l -> spec.isDecomposed(l.name()))
                .mapToLong(l -> (long) spec.rank(l.name()) * (l.dIn() + l.dOut())).sum();
    }
}
