package ai.pela.zoo.albef;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.StepHyper;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Gradients against PyTorch autograd: the teacher's ITC + ITM + MLM, and the κ=3 PELA student's full loss
 * ITC + ITM + MLM + 0.1·L_fd + 1·L_rwp (PELA's ALBEF weights) with the teacher's hidden states as L_fd targets.
 */
class AlbefGradientsTest {
    private static final String[] TEACHER_GRADS = {"temp", "visual_encoder.cls_token", "visual_encoder.pos_embed",
        "visual_encoder.blocks.0.attn.qkv.weight", "visual_encoder.blocks.1.mlp.fc2.bias",
        "text_encoder.bert.embeddings.word_embeddings.weight", "text_encoder.bert.embeddings.position_embeddings.weight",
        "text_encoder.bert.encoder.layer.0.attention.self.query.weight",
        "text_encoder.bert.encoder.layer.2.crossattention.self.key.weight",
        "text_encoder.bert.encoder.layer.3.output.LayerNorm.weight", "text_encoder.cls.predictions.bias",
        "text_encoder.cls.predictions.transform.dense.weight", "vision_proj.weight", "text_proj.bias", "itm_head.weight"};
    private static final String[] STUDENT_GRADS = {"temp", "visual_encoder.blocks.1.mlp.fc1.0.weight",
        "visual_encoder.blocks.1.mlp.fc1.1.weight", "visual_encoder.blocks.0.attn.qkv.1.bias",
        "text_encoder.bert.embeddings.word_embeddings.weight",
        "text_encoder.bert.encoder.layer.1.attention.self.value.0.weight",
        "text_encoder.bert.encoder.layer.3.crossattention.self.value.1.weight", "itm_head.weight"};

    static StepHyper hyper(double alpha, double beta, double eps) {
        return new StepHyper(alpha, beta, 0, FdForm.CODE, RwpForm.CODE, eps, 0, AdamW.Config.defaults(0.02),
                CosineSchedule.constant(1e-4));
    }

    @Test
    void teacherLossGradientsMatchPyTorch() {
        AlbefPelaStep step = new AlbefPelaStep(AlbefFixtures.config(), AlbefFixtures.weights(), null, null,
                hyper(0, 0, 0), AlbefFixtures.TEXT_LENGTH, AlbefPelaStep.Negatives.STUDENT, 1);
        AlbefPelaStep.Result r = step.lossesAndGradients(AlbefFixtures.batch());
        StateDict ref = AlbefFixtures.outputs();
        assertThat(r.outputs().get(AlbefPelaStep.TOTAL).getDouble(0))
                .isCloseTo(ref.get("loss_base").getDouble(0), within(1e-4 * ref.get("loss_base").getDouble(0)));
        assertGradients(r.gradients(), ref, TEACHER_GRADS);
    }

    @Test
    void studentPelaLossAndGradientsMatchPyTorch() {
        AlbefModel teacher = AlbefModel.create(AlbefFixtures.config(), AlbefFixtures.weights(), AlbefFixtures.TEXT_LENGTH,
                "teacher");
        StateDict ref = AlbefFixtures.studentOutputs();
        StepHyper h = hyper(ref.get("alpha").getDouble(0), ref.get("beta").getDouble(0), ref.get("rwp_eps").getDouble(0));
        AlbefPelaStep step = new AlbefPelaStep(AlbefFixtures.studentConfig(), AlbefFixtures.studentWeights(), teacher,
                AlbefFixtures.weights(), h, AlbefFixtures.TEXT_LENGTH, AlbefPelaStep.Negatives.TEACHER, 1);
        AlbefPelaStep.Result r = step.lossesAndGradients(AlbefFixtures.batch());
        Map<String, INDArray> out = r.outputs();
        String[][] terms = {{AlbefGraph.LOSS_ITC, "loss_itc"}, {AlbefGraph.LOSS_ITM, "loss_itm"},
            {AlbefGraph.LOSS_MLM, "loss_mlm"}, {AlbefPelaStep.FD, "loss_fd"}, {AlbefPelaStep.RWP, "loss_rwp"},
            {AlbefPelaStep.TOTAL, "loss_total"}};
        for (String[] t : terms) {
            double expected = ref.get(t[1]).getDouble(0);
            assertThat(out.get(t[0]).getDouble(0)).as(t[0]).isCloseTo(expected, within(1e-4 * Math.abs(expected)));
        }
        assertGradients(r.gradients(), ref, STUDENT_GRADS);
        // nn.Embedding(padding_idx=0): the pad row's gradient is the tied decoder's alone, L_fd adds nothing to it
        INDArray padRow = r.gradients().get(AlbefLayout.WORD_EMBEDDINGS).get(NDArrayIndex.point(0), NDArrayIndex.all());
        INDArray refPadRow = ref.get("grad." + AlbefLayout.WORD_EMBEDDINGS).get(NDArrayIndex.point(0), NDArrayIndex.all());
        assertThat(relativeError(padRow, refPadRow)).isLessThan(1e-4);
    }

    private static void assertGradients(Map<String, INDArray> grads, StateDict ref, String[] names) {
        for (String name : names) {
            INDArray expected = ref.get("grad." + name);
            INDArray actual = grads.get(name).reshape(expected.shape());
            assertThat(relativeError(actual, expected)).as("gradient of %s", name).isLessThan(1e-4);
        }
    }
}
