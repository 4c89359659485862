package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.EmbeddingAgreement;
import ai.pela.zoo.text.FashionCaptions;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.StepHyper;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 5's measurement on a real pretrained text encoder: all-MiniLM-L6-v2 as the teacher, its κ=3 SVD student
 * as it comes out of the surgery (naive), and the same student after a short PELA distillation (α·L_fd over
 * text_out.0..6 + β·L_rwp, ALBEF's α=0.1, β=1, ε=1e-3) on training captions. Compared on held-out sentences the
 * distillation never saw: generated Fashion-MNIST captions and the tokenizer fixture's natural English sentences.
 */
class MiniLmDistillationTest {
    private static final Logger LOG = LoggerFactory.getLogger(MiniLmDistillationTest.class);
    private static final int LENGTH = 16;
    private static final int BATCH = 16;
    private static final int TRAIN = 384;
    private static final int HELD_OUT = 96;
    private static final int STEPS = Integer.getInteger("minilm.steps", 48);
    /** Natural English sentences of the tokenizer fixture (never trained on). */
    private static final int[] NATURAL = {1, 3, 4, 5, 6, 7, 9, 18, 19, 20, 21, 22, 32, 34, 35, 36, 38, 40};

    @Test
    void distilledStudentIsClearlyCloserToTheTeacherThanTheNaiveOne() throws IOException {
        BertConfig config = MiniLm.config();
        StateDict teacherWeights = MiniLm.load();
        LowRankSpec spec = LowRank.plan(BertTextLayout.linears(config, LENGTH), 3, LowRank.ALBEF_OMIT);
        StateDict naive = LowRank.decompose(teacherWeights, spec);
        TextEncoderModel teacher = TextEncoderModel.create(config, null, teacherWeights, LENGTH, "teacher");

        List<String> captions = FashionCaptions.generate(TRAIN + HELD_OUT, 5);
        List<String> train = captions.subList(0, TRAIN);
        List<String> heldOut = new ArrayList<>(captions.subList(TRAIN, TRAIN + HELD_OUT));
        heldOut.addAll(naturalSentences());

        long t0 = System.nanoTime();
        StateDict distilled = distil(config, spec, naive, teacher, teacherWeights, train);
        double seconds = (System.nanoTime() - t0) / 1e9;

        float[][] t = embed(teacher, heldOut);
        EmbeddingAgreement naiveAll = EmbeddingAgreement.of(t, embed(model(config, spec, naive), heldOut));
        EmbeddingAgreement pelaAll = EmbeddingAgreement.of(t, embed(model(config, spec, distilled), heldOut));
        List<String> natural = heldOut.subList(HELD_OUT, heldOut.size());
        float[][] tn = embed(teacher, natural);
        EmbeddingAgreement naiveNat = EmbeddingAgreement.of(tn, embed(model(config, spec, naive), natural));
        EmbeddingAgreement pelaNat = EmbeddingAgreement.of(tn, embed(model(config, spec, distilled), natural));
        LOG.info("MiniLM κ=3, {} distillation steps of {} ({} s), held-out {} sentences:\n  naive {}\n  pela  {}\n"
                + "natural sentences only ({}):\n  naive {}\n  pela  {}", STEPS, BATCH, Math.round(seconds),
                heldOut.size(), naiveAll, pelaAll, natural.size(), naiveNat, pelaNat);

        // "clearly closer" on the held-out sentences: the distilled student's cosine gap to the teacher (1 − cos) at
        // most half the naive one's (measured: 0.70 → 0.26), and its nearest neighbours agree with the teacher's at
        // least 10 points more often (measured: 41 % → 61 %), and no less often within the top 5. Measured at 48
        // steps; the natural sentences alone (far from the captions distilled on) are only logged: there the short
        // distillation barely moves the cosine (0.30 → 0.32) — see README.
        assertThat(1 - pelaAll.meanCosine()).isLessThan(0.5 * (1 - naiveAll.meanCosine()));
        assertThat(pelaAll.top1()).isGreaterThan(naiveAll.top1() + 0.1);
        assertThat(pelaAll.recallAt5()).isGreaterThanOrEqualTo(naiveAll.recallAt5());
    }

    private static StateDict distil(BertConfig config, LowRankSpec spec, StateDict naive, TextEncoderModel teacher,
            StateDict teacherWeights, List<String> train) {
        StepHyper hyper = new StepHyper(0.1, 1.0, 0, FdForm.CODE, RwpForm.CODE, 1e-3, 5.0,
                AdamW.Config.defaults(0.02), new CosineSchedule(5e-4, 1e-5, 1e-5, STEPS / 8, STEPS));
        TextPelaStep step = new TextPelaStep(config, spec, naive, teacher, teacherWeights, hyper);
        BertTokenizer tok = BertTokenizer.bertBaseUncased();
        for (int s = 0; s < STEPS; s++) {
            int from = (s * BATCH) % train.size();
            List<String> batch = train.subList(from, Math.min(train.size(), from + BATCH));
            TextPelaStep.TextLosses l = step.step(tok.encodeBatch(batch, LENGTH, BertTokenizer.Padding.MAX_LENGTH));
            if (s % 8 == 0 || s == STEPS - 1) {
                LOG.info("step {}: loss {} fd {} rwp {} lr {}", s, l.total(), l.fd(), l.rwp(), l.lr());
            }
        }
        return step.stateDict();
    }

    private static TextEncoderModel model(BertConfig config, LowRankSpec spec, StateDict w) {
        return TextEncoderModel.create(config, spec, w, LENGTH, "student");
    }

    static float[][] embed(TextEncoderModel m, List<String> texts) {
        BertTokenizer tok = BertTokenizer.bertBaseUncased();
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i += BATCH) {
            INDArray e = m.embed(texts.subList(i, Math.min(texts.size(), i + BATCH)), tok);
            for (int r = 0; r < e.size(0); r++) {
                out[i + r] = e.getRow(r).toFloatVector();
            }
        }
        return out;
    }

    static List<String> naturalSentences() throws IOException {
        JsonNode cases = new ObjectMapper().readTree(Fixtures.resource("/text/bert_uncased_tokenization.json").toFile())
                .get("cases");
        List<String> out = new ArrayList<>();
        for (int c : NATURAL) {
            out.add(cases.get(c).get("text").asText());
        }
        return out;
    }
}
