package ai.pela.zoo.swin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loading Swin checkpoints against {@code fixtures/swin_io} (make_swin_io_fixtures.py): a tiny Swin in the official
 * layout with the buffers PyTorch computed (the index from torchvision's ShiftedWindowAttention, the mask by the
 * official construction), and the same weights in timm's current layout.
 */
class SwinCheckpointTest {
    private static final String SRC = "swin.safetensors";

    private static SwinConfig config() {
        return SwinConfigJson.read(Fixtures.path("swin_io/config.json"));
    }

    private static StateDict official() {
        return Fixtures.safetensors("swin_io/official.safetensors");
    }

    @Test
    void officialLayoutLoadsWithBuffersCheckedAndLeftOut() {
        StateDict raw = official();
        assertThat(raw.get("layers.0.blocks.0.attn.relative_position_index").dataType()).isEqualTo(DataType.LONG);
        assertThat(raw.contains("layers.0.blocks.1.attn_mask")).isTrue();
        StateDict w = SwinCheckpoint.fromPyTorch(raw, config(), SRC);
        assertThat(w.keys()).containsExactlyElementsOf(SwinLayout.parameterShapes(config()).keySet());
        assertThat(w.get("head.weight")).isEqualTo(raw.get("head.weight"));
    }

    @Test
    void computedBuffersEqualPyTorchs() {
        StateDict raw = official();
        SwinConfig c = config();
        int[] index = SwinWindows.relativePositionIndex(c.window(0));
        INDArray stored = raw.get("layers.1.blocks.0.attn.relative_position_index");
        assertThat(Nd4j.createFromArray(index).castTo(DataType.LONG).reshape(16, 16)).isEqualTo(stored);
        float[] mask = SwinWindows.shiftMask(c.resolution(0), c.window(0), c.shift(0, 1));
        assertThat(Nd4j.createFromArray(mask).reshape(4, 16, 16)).isEqualTo(raw.get("layers.0.blocks.1.attn_mask"));
        assertThat(SwinWindows.shiftMask(c.resolution(1), c.window(1), c.shift(1, 1)))
                .as("stage 1's window is its whole grid: nothing shifts").isNull();
    }

    @Test
    void timmLayoutIsConvertedToTheOfficialOne() {
        StateDict timm = Fixtures.safetensors("swin_io/timm.safetensors");
        assertThat(timm.contains("layers.1.downsample.reduction.weight")).isTrue();
        assertThat(timm.contains("head.fc.weight")).isTrue();
        StateDict w = SwinCheckpoint.fromPyTorch(timm, config(), SRC);
        StateDict expected = SwinCheckpoint.fromPyTorch(official(), config(), SRC);
        assertThat(w.keys()).containsExactlyElementsOf(expected.keys());
        for (String k : expected.keys()) {
            assertThat(w.get(k)).as(k).isEqualTo(expected.get(k));
        }
    }

    @Test
    void aHeadlessTimmCheckpointIsRecognisedByItsLastStageDownsample() {
        StateDict timm = without(Fixtures.safetensors("swin_io/timm.safetensors"), "head.fc.");
        StateDict w = SwinCheckpoint.fromPyTorch(timm, config().withNumClasses(0), SRC);
        assertThat(w.contains("layers.0.downsample.norm.weight")).isTrue();
    }

    @Test
    void aWrongWindowSizeFailsNamingTheBufferAndBothShapes() {
        SwinConfig window2 = new SwinConfig("swin", 16, 2, 3, 8, config().depths(), config().numHeads(), 2, 2.0, 5,
                true, config().mean(), config().std(), null).validate("w2");
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(official(), window2, SRC)).isInstanceOf(PelaException.class)
                .hasMessageContaining(SRC).hasMessageContaining("layers.0.blocks.0.attn.relative_position_index")
                .hasMessageContaining("[16, 16]").hasMessageContaining("[4, 4]");
        // without buffers (timm's files), the bias table's shape tells
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(Fixtures.safetensors("swin_io/timm.safetensors"), window2, SRC))
                .hasMessageContaining("layers.0.blocks.0.attn.relative_position_bias_table")
                .hasMessageContaining("[49, 1]").hasMessageContaining("[9, 1]");
    }

    @Test
    void aMissingOrExtraStageFailsNamingIt() {
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(without(official(), "layers.1."), config(), SRC))
                .hasMessageContaining(SRC).hasMessageContaining("stage 1 is missing").hasMessageContaining("layers.1.");
        SwinConfig oneStage = new SwinConfig("swin", 16, 2, 3, 8, java.util.List.of(2), java.util.List.of(1), 4, 2.0, 5,
                true, config().mean(), config().std(), null).validate("one");
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(official(), oneStage, SRC))
                .hasMessageContaining("belongs to stage 1").hasMessageContaining("1 stages");
    }

    @Test
    void aBufferThatDisagreesFailsNamingTheKeyAndBothValues() {
        StateDict raw = official();
        INDArray index = raw.get("layers.0.blocks.1.attn.relative_position_index").dup();
        index.putScalar(new long[] {2, 3}, 7L);
        StateDict badIndex = new StateDict(raw.asMap()).put("layers.0.blocks.1.attn.relative_position_index", index);
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(badIndex, config(), SRC))
                .hasMessageContaining("layers.0.blocks.1.attn.relative_position_index").hasMessageContaining("[2, 3]")
                .hasMessageContaining("7 in the checkpoint").hasMessageContaining("computed");

        INDArray mask = raw.get("layers.0.blocks.1.attn_mask").dup();
        mask.putScalar(new long[] {3, 0, 15}, 0f);
        StateDict badMask = new StateDict(raw.asMap()).put("layers.0.blocks.1.attn_mask", mask);
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(badMask, config(), SRC))
                .hasMessageContaining("layers.0.blocks.1.attn_mask").hasMessageContaining("[3, 0, 15]")
                .hasMessageContaining("0.0 in the checkpoint, -100.0 computed");

        StateDict maskOnUnshifted = new StateDict(raw.asMap()).put("layers.0.blocks.0.attn_mask", mask);
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(maskOnUnshifted, config(), SRC))
                .hasMessageContaining("layers.0.blocks.0.attn_mask").hasMessageContaining("does not shift");
    }

    @Test
    void aCheckpointMixingBothLayoutsFails() {
        StateDict raw = official();
        StateDict mixed = new StateDict(raw.asMap()).put("head.fc.weight", raw.get("head.weight"));
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(mixed, config(), SRC))
                .hasMessageContaining("layers.0.downsample.").hasMessageContaining("mixes");
        StateDict timm = Fixtures.safetensors("swin_io/timm.safetensors");
        StateDict twoHeads = new StateDict().put("head.weight", timm.get("head.fc.weight"));
        timm.asMap().forEach(twoHeads::put);
        assertThatThrownBy(() -> SwinCheckpoint.fromPyTorch(twoHeads, config(), SRC))
                .hasMessageContaining("'head.fc.weight' maps to 'head.weight'").hasMessageContaining("mixes");
    }

    @Test
    void aStudentCheckpointLoadsThroughTheSameDoor() {
        SwinConfig c = config();
        var spec = ai.pela.zoo.lowrank.LowRank.plan(SwinLayout.linears(c), 2, ai.pela.zoo.lowrank.LowRank.SWIN_OMIT);
        StateDict teacher = SwinCheckpoint.fromPyTorch(official(), c, SRC);
        StateDict student = ai.pela.zoo.lowrank.LowRank.decompose(teacher, spec);
        StateDict back = SwinCheckpoint.fromPyTorch(student, c.withLowRank(spec), SRC);
        assertThat(back.keys()).contains("layers.0.blocks.0.attn.qkv.0.weight", "layers.0.blocks.0.attn.proj.weight");
    }

    private static StateDict without(StateDict sd, String prefix) {
        StateDict out = new StateDict();
        for (Map.Entry<String, INDArray> e : sd.asMap().entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
