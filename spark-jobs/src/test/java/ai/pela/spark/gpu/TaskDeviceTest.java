package ai.pela.spark.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.util.Map;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;

class TaskDeviceTest {
    private static Map<String, ResourceInformation> gpus(String... addresses) {
        return Map.of("gpu", new ResourceInformation("gpu", addresses));
    }

    @Test
    void eachTaskGetsTheDeviceSparkAssignedIt() {
        // Four tasks on one 4-GPU executor: four different devices, never "GPU 0 for everyone".
        for (int i = 0; i < 4; i++) {
            assertThat(TaskDevice.ordinal(gpus(String.valueOf(i)), null, 4)).hasValue(i);
        }
    }

    @Test
    void isolatedDevicesAreRenumberedAsCudaSeesThem() {
        // YARN / k8s set CUDA_VISIBLE_DEVICES=2,3: CUDA calls physical GPU 3 device 1.
        assertThat(TaskDevice.ordinal(gpus("3"), "2,3", 2)).hasValue(1);
        assertThat(TaskDevice.ordinal(gpus("2"), " 2, 3", 2)).hasValue(0);
        assertThatThrownBy(() -> TaskDevice.ordinal(gpus("1"), "2,3", 2))
                .isInstanceOf(PelaException.class).hasMessageContaining("CUDA_VISIBLE_DEVICES=2,3 does not list it");
    }

    @Test
    void noGpuResourceMeansNoDevice() {
        assertThat(TaskDevice.ordinal(Map.of(), null, 1)).isEmpty();
        assertThat(TaskDevice.ordinal(gpus(), null, 1)).isEmpty();
    }

    @Test
    void aTaskGivenSeveralGpusUsesItsFirst() {
        assertThat(TaskDevice.ordinal(gpus("1", "2"), null, 4)).hasValue(1);
    }

    @Test
    void badAddressesAreNamed() {
        assertThatThrownBy(() -> TaskDevice.ordinal(gpus("GPU-8f1a"), null, 2))
                .hasMessageContaining("GPU address 'GPU-8f1a' is not a device index");
        assertThatThrownBy(() -> TaskDevice.ordinal(gpus("-1"), null, 2)).hasMessageContaining("'-1'");
        assertThatThrownBy(() -> TaskDevice.ordinal(gpus("5"), null, 2))
                .hasMessageContaining("assigned GPU 5 (CUDA device 5) but this executor sees 2 device(s)");
    }

    @Test
    void onTheCpuBackendTasksAreNotBound() {
        assertThat(TaskDevice.bindCurrentTask()).isEqualTo(-1);
    }
}
