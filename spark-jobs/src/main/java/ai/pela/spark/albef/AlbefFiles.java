package ai.pela.spark.albef;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.zoo.albef.AlbefCheckpoint;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.io.StateDict;
import org.apache.hadoop.fs.Path;

/**
 * ALBEF model directories through Hadoop paths, with the conventions of ViT model directories: {@code config.json}
 * (ALBEF's, see {@link AlbefConfigJson}) and {@code model.safetensors} (this project's layout, or a PyTorch
 * ALBEF state dict converted to safetensors: {@link AlbefCheckpoint} drops what this model does not use).
 */
public final class AlbefFiles {
    private AlbefFiles() {
    }

    /** True when {@code location} is an ALBEF config.json (it names an ALBEF preset or has a bert_config). */
    public static boolean isAlbef(Storage storage, String location) {
        return AlbefConfigJson.isAlbef(JobFiles.readConfigObject(storage, location));
    }

    public static AlbefConfig readConfig(Storage storage, String location) {
        return AlbefConfigJson.fromJson(JobFiles.readConfigObject(storage, location), location);
    }

    public static StateDict readWeights(Storage storage, String location, AlbefConfig config) {
        // ALBEF's released checkpoints hold PyTorch's names (and foreign keys): the conversion maps and checks them.
        return AlbefCheckpoint.fromPyTorch(Weights.read(storage, Weights.configured(location)), config, location);
    }

    /** Writes {@code dir/model.safetensors} and {@code dir/config.json}, each atomically. */
    public static void writeModel(Storage storage, Path dir, AlbefConfig config, StateDict weights) {
        JobFiles.writeModel(storage, dir, ConfigJson.toJsonString(AlbefConfigJson.toJson(config)), weights);
    }
}
