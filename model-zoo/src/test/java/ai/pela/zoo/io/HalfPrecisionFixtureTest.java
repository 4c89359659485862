package ai.pela.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** F16 / BF16 checkpoints written by PyTorch widen to exactly the floats torch's own conversion gives. */
class HalfPrecisionFixtureTest {
    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16"})
    void widenedValuesAreBitIdenticalToTorchs(String tag) {
        StateDict half = Fixtures.safetensors("vit_token/model_" + tag + ".safetensors");
        StateDict ref = Fixtures.safetensors("vit_token/model_" + tag + "_as_f32.safetensors");
        assertThat(half.keys()).containsExactlyElementsOf(ref.keys()).contains("specials");
        for (String k : ref.keys()) {
            INDArray a = half.get(k);
            INDArray b = ref.get(k);
            assertThat(a.dataType()).isEqualTo(DataType.FLOAT);
            assertThat(a.shape()).isEqualTo(b.shape());
            float[] x = a.data().asFloat();
            float[] y = b.data().asFloat();
            for (int i = 0; i < x.length; i++) {
                assertThat(Float.floatToRawIntBits(x[i])).as("%s[%d]", k, i).isEqualTo(Float.floatToRawIntBits(y[i]));
            }
        }
    }
}
