package ai.pela.zoo.albef;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.io.StateDict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** ALBEF's forward, hidden states and losses against the hand-written PyTorch ALBEF (fixtures/albef). */
class AlbefModelTest {
    private static AlbefModel model;
    private static StateDict ref;
    private static AlbefBatch batch;

    @BeforeAll
    static void load() {
        model = AlbefModel.create(AlbefFixtures.config(), AlbefFixtures.weights(), AlbefFixtures.TEXT_LENGTH, "fixture");
        ref = AlbefFixtures.outputs();
        batch = AlbefFixtures.batch();
    }

    @Test
    void hiddenStatesHaveAlbefsCountsAndShapesAndMatchPyTorch() {
        AlbefGraph.Handles h = model.handles();
        assertThat(h.imageOut()).hasSize(3);    // embedding output + 2 ViT blocks
        assertThat(h.textOut()).hasSize(3);     // embedding output + 2 text layers
        assertThat(h.textMlmOut()).hasSize(5);  // embedding output + 2 text + 2 fusion layers
        Map<String, INDArray> out = model.output(batch, h.hiddenStateNames());
        for (String name : h.hiddenStateNames()) {
            INDArray expected = ref.get(name);
            assertThat(out.get(name).shape()).as(name).containsExactly(expected.shape());
            assertThat(relativeError(out.get(name), expected)).as(name).isLessThan(1e-4);
        }
        assertThat(out.get("image_out.0").shape()).containsExactly(4, 17, 32);
        assertThat(out.get("text_mlm_out.4").shape()).containsExactly(4, 8, 32);
    }

    @Test
    void featuresSimilarityAndLogitsMatchPyTorch() {
        Map<String, INDArray> out = model.output(batch, List.of(AlbefGraph.IMAGE_FEAT, AlbefGraph.TEXT_FEAT,
                AlbefGraph.SIM_I2T, AlbefGraph.ITM_LOGITS, AlbefGraph.MLM_LOGITS));
        assertThat(out.get(AlbefGraph.IMAGE_FEAT).shape()).containsExactly(4, 16);
        assertThat(relativeError(out.get(AlbefGraph.IMAGE_FEAT), ref.get("image_feat"))).isLessThan(1e-4);
        assertThat(relativeError(out.get(AlbefGraph.TEXT_FEAT), ref.get("text_feat"))).isLessThan(1e-4);
        assertThat(relativeError(out.get(AlbefGraph.SIM_I2T), ref.get("sim_i2t"))).isLessThan(1e-4);
        assertThat(out.get(AlbefGraph.ITM_LOGITS).shape()).containsExactly(12, 2);
        assertThat(relativeError(out.get(AlbefGraph.ITM_LOGITS), ref.get("itm_logits"))).isLessThan(1e-4);
        // MLM logits exist only at the masked positions: compare with PyTorch's rows there
        INDArray all = ref.get("mlm_logits").reshape(-1, 120);
        int[] positions = batch.maskedPositions();
        INDArray expected = all.get(NDArrayIndex.indices(toLong(positions)), NDArrayIndex.all());
        assertThat(out.get(AlbefGraph.MLM_LOGITS).shape()).containsExactly(positions.length, 120);
        assertThat(relativeError(out.get(AlbefGraph.MLM_LOGITS), expected)).isLessThan(1e-4);
    }

    @Test
    void lossesMatchPyTorch() {
        Map<String, INDArray> out = model.output(batch, List.of(AlbefGraph.LOSS_ITC, AlbefGraph.LOSS_ITM,
                AlbefGraph.LOSS_MLM, AlbefGraph.LOSS_BASE));
        for (String[] pair : new String[][] {{AlbefGraph.LOSS_ITC, "loss_itc"}, {AlbefGraph.LOSS_ITM, "loss_itm"},
                {AlbefGraph.LOSS_MLM, "loss_mlm"}, {AlbefGraph.LOSS_BASE, "loss_base"}}) {
            double expected = ref.get(pair[1]).getDouble(0);
            assertThat(out.get(pair[0]).getDouble(0)).as(pair[0]).isCloseTo(expected,
                    org.assertj.core.api.Assertions.within(1e-4 * Math.abs(expected)));
        }
    }

    private static long[] toLong(int[] a) {
        long[] out = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }
}
