package ai.pela.spark.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.apache.spark.resource.ResourceProfile;
import org.junit.jupiter.api.Test;

class GpuProfileTest {
    private static GpuProfile.Settings settings(double task, int cpus, long executor) {
        return new GpuProfile.Settings(task, cpus, executor, "submit/gpu-discovery.sh", "nvidia.com");
    }

    @Test
    void noGpusAskedMeansNoProfile() {
        assertThat(GpuProfile.build(settings(0, 1, 0))).isEmpty();
    }

    @Test
    void aTaskOnlyProfileAsksEachTaskForItsGpuAndCpus() {
        ResourceProfile p = GpuProfile.build(settings(1, 4, 0)).orElseThrow();
        assertThat(p.taskResources().get("gpu").get().amount()).isEqualTo(1.0);
        assertThat(p.taskResources().get("cpus").get().amount()).isEqualTo(4.0);
        assertThat(p.executorResources().isEmpty()).isTrue();
    }

    @Test
    void anExecutorProfileAsksForGpusWithTheDiscoveryScriptAndCoresForEveryTask() {
        ResourceProfile p = GpuProfile.build(settings(1, 4, 8)).orElseThrow();
        var gpu = p.executorResources().get("gpu").get();
        assertThat(gpu.amount()).isEqualTo(8);
        assertThat(gpu.discoveryScript()).isEqualTo("submit/gpu-discovery.sh");
        assertThat(gpu.vendor()).isEqualTo("nvidia.com");
        assertThat(p.executorResources().get("cores").get().amount()).isEqualTo(32); // 8 tasks x 4 cpus
        // Two tasks share a GPU at 0.5 each.
        ResourceProfile half = GpuProfile.build(settings(0.5, 2, 2)).orElseThrow();
        assertThat(half.executorResources().get("cores").get().amount()).isEqualTo(8);
    }

    @Test
    void inconsistentSettingsAreNamed() {
        assertThatThrownBy(() -> GpuProfile.build(settings(0, 1, 2))).hasMessageContaining("task-amount is 0");
        assertThatThrownBy(() -> GpuProfile.build(settings(2, 1, 1))).hasMessageContaining("smaller than one task's");
        assertThatThrownBy(() -> GpuProfile.build(settings(1.5, 1, 0))).hasMessageContaining("whole number");
        assertThatThrownBy(() -> GpuProfile.build(settings(-1, 1, 0))).hasMessageContaining(">= 0");
        assertThat(GpuProfile.build(settings(1, 1, 0))).isNotEqualTo(Optional.empty());
    }

    @Test
    void theTeacherPrecisionIsCheckedAndAutoMeansFp32OnTheCpu() {
        var spec = new ai.pela.spark.train.ModelSpec(null, null, null, null, null, "auto");
        assertThat(spec.teacherDataType()).isEqualTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        assertThat(new ai.pela.spark.train.ModelSpec(null, null, null, null, null, "fp16").teacherDataType())
                .isEqualTo(org.nd4j.linalg.api.buffer.DataType.HALF);
        assertThatThrownBy(() -> new ai.pela.spark.train.ModelSpec(null, null, null, null, null, "bf16"))
                .hasMessageContaining("pela.gpu.teacher-precision").hasMessageContaining("'bf16'");
    }
}
