package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.io.StateDict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The albef_tiny preset (real 30,522-token vocabulary) from a random initialisation. */
class AlbefInitTest {
    @Test
    void sameSeedSameWeightsAndThePadRowIsZero() {
        AlbefConfig c = AlbefPresets.get("albef_tiny");
        StateDict a = AlbefInit.random(c, 5);
        StateDict b = AlbefInit.random(c, 5);
        assertThat(a.keys()).containsExactlyElementsOf(AlbefLayout.parameterShapes(c).keySet());
        for (String k : List.of("visual_encoder.blocks.1.mlp.fc1.weight", AlbefLayout.WORD_EMBEDDINGS, "itm_head.weight")) {
            assertThat(a.get(k)).as(k).isEqualTo(b.get(k));
        }
        assertThat(a.get(AlbefLayout.WORD_EMBEDDINGS).getRow(0).norm2Number().doubleValue()).isZero();
        assertThat(a.get(AlbefLayout.WORD_EMBEDDINGS).std(true).getDouble(0)).isCloseTo(0.02, within(0.001));
        assertThat(AlbefInit.random(c, 6).get("vision_proj.weight")).isNotEqualTo(a.get("vision_proj.weight"));
    }

    @Test
    void untrainedTinyModelHasChanceLevelLosses() {
        AlbefConfig c = AlbefPresets.get("albef_tiny");
        AlbefModel model = AlbefModel.create(c, AlbefInit.random(c, 1), 12, "init");
        int n = 4;
        INDArray ids = Nd4j.createFromArray(new int[][] {
            {101, 2023, 2003, 1037, 4937, 102, 0, 0, 0, 0, 0, 0}, {101, 1037, 3899, 102, 0, 0, 0, 0, 0, 0, 0, 0},
            {101, 2048, 5362, 2006, 1996, 2346, 102, 0, 0, 0, 0, 0}, {101, 1037, 2417, 2482, 102, 0, 0, 0, 0, 0, 0, 0}});
        INDArray mask = ids.gt(0).castTo(DataType.FLOAT);
        INDArray labels = Nd4j.valueArrayOf(new long[] {n, 12}, -100, DataType.INT);
        INDArray masked = ids.dup();
        for (int b = 0; b < n; b++) {
            labels.putScalar(b, 2, ids.getInt(b, 2));
            masked.putScalar(b, 2, 103); // [MASK]
        }
        AlbefBatch batch = new AlbefBatch(Nd4j.randn(DataType.FLOAT, n, 3, 32, 32), ids, mask, masked, labels,
                new int[] {1, 2, 3, 0}, new int[] {3, 0, 1, 2});
        Map<String, INDArray> out = model.output(batch, List.of(AlbefGraph.LOSS_ITM, AlbefGraph.LOSS_MLM,
                AlbefGraph.LOSS_ITC));
        assertThat(out.get(AlbefGraph.LOSS_MLM).getDouble(0)).isCloseTo(Math.log(30522), within(0.3));
        assertThat(out.get(AlbefGraph.LOSS_ITM).getDouble(0)).isCloseTo(Math.log(2), within(0.1));
        assertThat(out.get(AlbefGraph.LOSS_ITC).getDouble(0)).isFinite().isPositive();
    }
}
