package ai.pela.spark.gpu;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GPU a Spark task computes on: the address Spark's scheduler assigned to the task
 * ({@code TaskContext.resources().get("gpu")}), mapped to a CUDA device ordinal. Two tasks on one multi-GPU executor
 * get different addresses, so they never share "GPU 0". Addresses are what the discovery script reports
 * (nvidia-smi's physical indices); where the cluster manager isolates devices with {@code CUDA_VISIBLE_DEVICES}, CUDA
 * renumbers the visible ones from 0, so the ordinal is the address's position in that list.
 */
public final class TaskDevice {
    private static final Logger LOG = LoggerFactory.getLogger(TaskDevice.class);
    public static final String GPU = "gpu";

    private TaskDevice() {
    }

    /**
     * The CUDA ordinal for a task's resources, or empty when the task was given no GPU.
     *
     * @param cudaVisibleDevices the executor's {@code CUDA_VISIBLE_DEVICES}, or null when unset
     * @param deviceCount        devices the backend sees
     */
    public static OptionalInt ordinal(Map<String, ResourceInformation> resources, String cudaVisibleDevices,
            int deviceCount) {
        ResourceInformation gpu = resources.get(GPU);
        if (gpu == null || gpu.addresses().length == 0) {
            return OptionalInt.empty();
        }
        String address = gpu.addresses()[0].trim();
        if (gpu.addresses().length > 1) {
            // One model replica per task: a second GPU would sit idle. Say so rather than hide it.
            LOG.warn("task was given GPUs {} but uses one; set spark.task.resource.gpu.amount=1", List.of(gpu.addresses()));
        }
        int ordinal = visibleOrdinal(address, cudaVisibleDevices);
        if (ordinal >= deviceCount) {
            throw new PelaException("task was assigned GPU " + address + " (CUDA device " + ordinal + ") but this executor"
                    + " sees " + deviceCount + " device(s); check the discovery script and CUDA_VISIBLE_DEVICES");
        }
        return OptionalInt.of(ordinal);
    }

    static int visibleOrdinal(String address, String cudaVisibleDevices) {
        if (cudaVisibleDevices != null && !cudaVisibleDevices.isBlank()) {
            List<String> visible = new ArrayList<>();
            for (String d : cudaVisibleDevices.split(",")) {
                visible.add(d.trim());
            }
            int i = visible.indexOf(address);
            if (i < 0) {
                throw new PelaException("task was assigned GPU " + address + " but CUDA_VISIBLE_DEVICES=" + cudaVisibleDevices
                        + " does not list it; the discovery script and the isolation disagree");
            }
            return i;
        }
        try {
            int ordinal = Integer.parseInt(address);
            if (ordinal < 0) {
                throw new NumberFormatException();
            }
            return ordinal;
        } catch (NumberFormatException e) {
            throw new PelaException("GPU address '" + address + "' is not a device index; the discovery script must"
                    + " report indices (submit/gpu-discovery.sh does)");
        }
    }

    /**
     * Binds the calling task thread to its GPU on a CUDA backend; returns the ordinal used (-1 on CPU). On a CUDA
     * backend with several devices and no GPU assigned, fails rather than silently piling every task on device 0.
     */
    public static int bindCurrentTask() {
        if (Nd4j.getEnvironment().isCPU()) {
            return -1;
        }
        int devices = Nd4j.getAffinityManager().getNumberOfDevices();
        TaskContext tc = TaskContext.get();
        Map<String, ResourceInformation> resources = tc == null ? Map.of()
                : scala.collection.JavaConverters.mapAsJavaMap(tc.resources());
        OptionalInt ordinal = ordinal(resources, System.getenv("CUDA_VISIBLE_DEVICES"), devices);
        if (ordinal.isEmpty()) {
            if (devices > 1) {
                throw new PelaException("this executor sees " + devices + " GPUs but the task was assigned none; set "
                        + "spark.task.resource.gpu.amount=1 (conf/spark-defaults-gpu.conf) or pela.gpu.task-amount=1");
            }
            return 0;
        }
        Nd4j.getAffinityManager().unsafeSetDevice(ordinal.getAsInt());
        return ordinal.getAsInt();
    }
}
