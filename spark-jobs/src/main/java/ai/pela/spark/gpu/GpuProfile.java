package ai.pela.spark.gpu;

import ai.pela.zoo.PelaException;
import java.util.Optional;
import org.apache.spark.resource.ExecutorResourceRequests;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;

/**
 * The stage-level {@link ResourceProfile} of the training stage, from the recipe's {@code pela.gpu} block — the
 * alternative to cluster-wide {@code spark.executor.resource.gpu.*} / {@code spark.task.resource.gpu.amount}, for
 * clusters whose other stages should not hold GPUs. A task-only profile (GPUs per task, executors as configured)
 * works with static allocation; asking executors for GPUs too needs dynamic allocation, as Spark requires.
 */
public final class GpuProfile {
    private GpuProfile() {
    }

    /** The {@code pela.gpu} keys of the profile (read from the recipe by {@code config.GpuSettings}). */
    public record Settings(double taskAmount, int taskCpus, long executorAmount, String discoveryScript, String vendor) {
    }

    /** The profile for the training stage, or empty when the recipe asks for none (GPUs come from spark conf). */
    public static Optional<ResourceProfile> build(Settings s) {
        if (s.taskAmount() < 0 || s.executorAmount() < 0 || s.taskCpus() < 1) {
            throw new PelaException("pela.gpu: task-amount and executor-amount must be >= 0 and task-cpus >= 1, got "
                    + s.taskAmount() + ", " + s.executorAmount() + ", " + s.taskCpus());
        }
        if (s.taskAmount() == 0) {
            if (s.executorAmount() > 0) {
                throw new PelaException("pela.gpu.executor-amount is set but task-amount is 0: tasks would hold no GPU");
            }
            return Optional.empty();
        }
        if (s.taskAmount() > 1 && s.taskAmount() != Math.floor(s.taskAmount())) {
            throw new PelaException("pela.gpu.task-amount must be a whole number above 1 (or a fraction up to 1), got "
                    + s.taskAmount());
        }
        ResourceProfileBuilder b = new ResourceProfileBuilder();
        b.require(new TaskResourceRequests().cpus(s.taskCpus()).resource(TaskDevice.GPU, s.taskAmount()));
        if (s.executorAmount() > 0) {
            if (s.executorAmount() < Math.ceil(s.taskAmount())) {
                throw new PelaException("pela.gpu.executor-amount (" + s.executorAmount() + ") is smaller than one task's"
                        + " GPUs (" + s.taskAmount() + ")");
            }
            // As many cores as the tasks that share the executor's GPUs need, so CPU never caps GPU use.
            long tasksPerExecutor = (long) Math.floor(s.executorAmount() / s.taskAmount());
            b.require(new ExecutorResourceRequests().cores((int) (s.taskCpus() * tasksPerExecutor))
                    .resource(TaskDevice.GPU, s.executorAmount(), s.discoveryScript(), s.vendor()));
        }
        return Optional.of(b.build());
    }
}
