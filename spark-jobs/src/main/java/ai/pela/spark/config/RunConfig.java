package ai.pela.spark.config;

import ai.pela.spark.io.Storage;
import org.apache.hadoop.fs.Path;

/**
 * A training run's configuration, read from the recipe once: every section a training command uses, typed. The
 * recipe itself travels along only to be written into the run directory ({@code config.conf}).
 */
public record RunConfig(Recipe recipe, String runDir, long seed, ModelSettings model, DataSettings data,
        TrainSettings train, LossSettings loss, CheckpointSettings checkpoint, GpuSettings gpu) {

    public static RunConfig from(Recipe r) {
        return new RunConfig(r, r.string("run-dir"), r.longValue("seed"), ModelSettings.from(r), DataSettings.from(r),
                TrainSettings.from(r), LossSettings.from(r), CheckpointSettings.from(r), GpuSettings.from(r));
    }

    public Path runPath() {
        return Storage.path(runDir);
    }
}
