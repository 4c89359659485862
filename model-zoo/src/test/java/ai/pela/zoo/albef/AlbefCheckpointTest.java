package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Reading ALBEF state dicts as PyTorch writes them. */
class AlbefCheckpointTest {
    private static final String DECODER = AlbefLayout.PREDICTIONS + "decoder.weight";

    @Test
    void tiedAliasesBuffersQueuesAndMomentumEncodersAreLeftOut() {
        StateDict raw = new StateDict(AlbefFixtures.rawWeights().asMap());
        assertThat(raw.keys()).contains(DECODER, AlbefLayout.PREDICTIONS + "decoder.bias");
        raw.put(AlbefLayout.EMBEDDINGS + "position_ids", Nd4j.arange(16).castTo(DataType.LONG).reshape(1, 16));
        raw.put("image_queue", Nd4j.rand(DataType.FLOAT, 16, 8));
        raw.put("queue_ptr", Nd4j.zeros(DataType.LONG, 1));
        raw.put("visual_encoder_m.cls_token", Nd4j.zeros(DataType.FLOAT, 1, 1, 32));
        raw.put("text_proj_m.weight", Nd4j.zeros(DataType.FLOAT, 16, 32));
        StateDict w = AlbefCheckpoint.fromPyTorch(raw, AlbefFixtures.config(), "albef.safetensors");
        assertThat(w.keys()).containsExactlyElementsOf(AlbefLayout.parameterShapes(AlbefFixtures.config()).keySet());
        assertThat(w.get(AlbefLayout.TEMP).rank()).isZero();
    }

    @Test
    void anUntiedDecoderIsRefusedNamingTheKey() {
        StateDict raw = new StateDict(AlbefFixtures.rawWeights().asMap());
        raw.put(DECODER, raw.get(DECODER).add(1e-3));
        assertThatThrownBy(() -> AlbefCheckpoint.fromPyTorch(raw, AlbefFixtures.config(), "albef.safetensors"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("albef.safetensors")
                .hasMessageContaining("'" + DECODER + "'")
                .hasMessageContaining("untied");
    }

    @Test
    void missingAndUnexpectedTensorsAreListed() {
        StateDict raw = new StateDict();
        AlbefFixtures.rawWeights().asMap().forEach((k, v) -> {
            if (!k.equals("itm_head.bias")) {
                raw.put(k.equals("vision_proj.weight") ? "vision_projection.weight" : k, v);
            }
        });
        assertThatThrownBy(() -> AlbefCheckpoint.fromPyTorch(raw, AlbefFixtures.config(), "albef.safetensors"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("missing keys [vision_proj.weight, itm_head.bias]")
                .hasMessageContaining("unexpected keys [vision_projection.weight]");
    }

    @Test
    void aOneElementTemperatureIsAccepted() {
        StateDict raw = new StateDict(AlbefFixtures.rawWeights().asMap());
        raw.put(AlbefLayout.TEMP, Nd4j.createFromArray(0.07f));
        assertThat(AlbefCheckpoint.fromPyTorch(raw, AlbefFixtures.config(), "t").get(AlbefLayout.TEMP).getDouble(0))
                .isCloseTo(0.07, org.assertj.core.api.Assertions.within(1e-7));
    }
}
