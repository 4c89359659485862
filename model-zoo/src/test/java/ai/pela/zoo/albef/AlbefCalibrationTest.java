package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.engine.Vit;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.text.TokenBatch;
import ai.pela.zoo.vit.LinearSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * ALBEF's calibration pass for activation-aware SVD on the PyTorch-made tiny ALBEF: every Linear it runs gets a
 * scale of its d_in channels (the image encoder's from the ViT engine, the rest from the SameDiff graph), the
 * image encoder's are those of the true (LayerNorm'd) inputs, padding tokens do not count, and
 * {@link AlbefLowRank#compress} uses the scales and refuses a plan with an uncalibrated Linear.
 */
class AlbefCalibrationTest {
    @Test
    void everyDecomposableLinearGetsAScaleOfItsInputWidth() {
        AlbefConfig config = AlbefFixtures.config();
        Map<String, INDArray> scales = calibrate(text(AlbefFixtures.batch()));
        List<LinearSpec> linears = AlbefLayout.linears(config, 1);
        for (LinearSpec l : linears) {
            if (l.name().equals(AlbefLayout.PREDICTIONS + "decoder")) {
                continue; // the tied decoder is a matmul with the word embeddings, never compressed
            }
            assertThat(scales).as(l.name()).containsKey(l.name());
            assertThat(scales.get(l.name()).length()).as(l.name()).isEqualTo(l.dIn());
            assertThat(scales.get(l.name()).minNumber().doubleValue()).as(l.name()).isPositive();
        }
        assertThat(scales.keySet()).containsAll(AlbefLowRank.plan(config, 3, LowRank.ALBEF_OMIT).ranks().keySet())
                .contains("visual_encoder.blocks.1.mlp.fc1", "text_encoder.bert.encoder.layer.3.crossattention.self.key");
    }

    /** The qkv of the first block sees LayerNorm(embedding) with norm1's affine, which ALBEF's graph never forms. */
    @Test
    void theImageEncodersScalesAreThoseOfItsTrueInputs() {
        AlbefBatch batch = AlbefFixtures.batch();
        StateDict w = AlbefFixtures.weights();
        AlbefModel model = AlbefModel.create(AlbefFixtures.config(), w, AlbefFixtures.TEXT_LENGTH, "teacher");
        INDArray embedding = model.output(batch, List.of("image_out.0")).get("image_out.0");
        String norm1 = AlbefLayout.VISUAL + "blocks.0.norm1.";
        INDArray x = layerNorm(embedding.reshape(-1, embedding.size(2)), w.get(norm1 + "weight"), w.get(norm1 + "bias"));
        INDArray expected = Transforms.sqrt(x.mul(x).mean(0), false);

        INDArray got = calibrate(text(batch)).get(AlbefLayout.VISUAL + "blocks.0.attn.qkv");
        assertThat(relativeDifference(got, expected)).isLessThan(1e-4);
    }

    /** Padding rows are left out: other ids at the padded positions change no scale (attention masks them). */
    @Test
    void paddingTokensDoNotCount() {
        TokenBatch text = text(AlbefFixtures.batch());
        int[] otherPadding = text.ids().clone();
        for (int i = 0; i < otherPadding.length; i++) {
            if (text.mask()[i] == 0) {
                otherPadding[i] = 7;
            }
        }
        Map<String, INDArray> a = calibrate(text);
        Map<String, INDArray> b = calibrate(new TokenBatch(text.batch(), text.length(), otherPadding, text.mask()));
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((linear, s) -> assertThat(relativeDifference(b.get(linear), s)).as(linear).isLessThan(1e-5));
    }

    @Test
    void activationAwareCompressionUsesTheScalesAndNeedsOneForEveryDecomposedLinear() {
        AlbefConfig config = AlbefFixtures.config();
        StateDict teacher = AlbefFixtures.weights();
        Map<String, INDArray> scales = calibrate(text(AlbefFixtures.batch()));
        RankPolicy kappa3 = new RankPolicy.Uniform(3);
        AlbefLowRank.Student plain = AlbefLowRank.compress(config, teacher, kappa3, LowRank.ALBEF_OMIT);
        AlbefLowRank.Student aware = AlbefLowRank.compress(config, teacher, kappa3, LowRank.ALBEF_OMIT, scales);
        assertThat(aware.config()).isEqualTo(plain.config());
        for (String linear : List.of("visual_encoder.blocks.0.attn.qkv", "text_encoder.bert.encoder.layer.0.attention.self.query",
                "text_encoder.bert.encoder.layer.2.crossattention.self.value")) {
            INDArray p = plain.weights().get(linear + ".0.weight");
            INDArray q = aware.weights().get(linear + ".0.weight");
            assertThat(relativeDifference(q, p)).as(linear).isGreaterThan(1e-3);
        }
        // the student runs: finite losses
        AlbefModel student = AlbefModel.create(aware.config(), aware.weights(), AlbefFixtures.TEXT_LENGTH, "student");
        assertThat(student.output(AlbefFixtures.batch(), List.of(AlbefGraph.LOSS_BASE)).get(AlbefGraph.LOSS_BASE)
                .getDouble(0)).isFinite();

        String missing = "text_encoder.bert.encoder.layer.3.intermediate.dense";
        Map<String, INDArray> partial = new HashMap<>(scales);
        partial.remove(missing);
        assertThatThrownBy(() -> AlbefLowRank.compress(config, teacher, kappa3, LowRank.ALBEF_OMIT, partial))
                .isInstanceOf(PelaException.class).hasMessageContaining(missing);
        partial.put(missing, scales.get("text_encoder.bert.encoder.layer.3.output.dense")); // 128 channels, not 32
        assertThatThrownBy(() -> AlbefLowRank.compress(config, teacher, kappa3, LowRank.ALBEF_OMIT, partial))
                .isInstanceOf(PelaException.class).hasMessageContaining(missing).hasMessageContaining("channels");
    }

    @Test
    void aBudgetActivationAwareStudentHasTheBudgetsLinears() {
        AlbefConfig config = AlbefFixtures.config();
        Map<String, INDArray> scales = calibrate(text(AlbefFixtures.batch()));
        AlbefLowRank.Student s = AlbefLowRank.compress(config, AlbefFixtures.weights(), new RankPolicy.Budget(0.3),
                LowRank.ALBEF_OMIT, scales);
        LowRankSpec plain = AlbefLowRank.plan(config, 3, LowRank.ALBEF_OMIT);
        assertThat(s.config().lowrank().ranks().keySet()).isEqualTo(plain.ranks().keySet());
        assertThat(s.config().lowrank().kappa()).isGreaterThanOrEqualTo(1 / 0.3);
    }

    private static Map<String, INDArray> calibrate(TokenBatch text) {
        AlbefCalibration c = new AlbefCalibration(AlbefFixtures.config(), AlbefFixtures.weights(),
                AlbefFixtures.TEXT_LENGTH);
        c.observe(AlbefFixtures.batch().images(), text);
        return c.scales();
    }

    private static TokenBatch text(AlbefBatch batch) {
        int n = batch.size();
        int length = batch.textLength();
        return new TokenBatch(n, length, batch.inputIds().castTo(DataType.INT).reshape(-1).toIntVector(),
                batch.attentionMask().castTo(DataType.INT).reshape(-1).toIntVector());
    }

    /** timm's LayerNorm (eps {@value Vit#LN_EPS}) of rows [M, d], in double. */
    private static INDArray layerNorm(INDArray rows, INDArray weight, INDArray bias) {
        INDArray x = rows.castTo(DataType.DOUBLE);
        INDArray centered = x.subColumnVector(x.mean(true, 1));
        INDArray std = Transforms.sqrt(centered.mul(centered).mean(true, 1).add(Vit.LN_EPS), false);
        return centered.diviColumnVector(std).muliRowVector(weight.castTo(DataType.DOUBLE))
                .addiRowVector(bias.castTo(DataType.DOUBLE));
    }

    /** ‖got − expected‖ / ‖expected‖ over all elements. */
    private static double relativeDifference(INDArray got, INDArray expected) {
        INDArray e = expected.castTo(DataType.DOUBLE).reshape(-1);
        INDArray g = got.castTo(DataType.DOUBLE).reshape(-1);
        return g.sub(e).norm2Number().doubleValue() / e.norm2Number().doubleValue();
    }
}
