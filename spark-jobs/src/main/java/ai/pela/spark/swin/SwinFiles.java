package ai.pela.spark.swin;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinCheckpoint;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import org.apache.hadoop.fs.Path;

/**
 * Swin model directories through Hadoop paths, with the conventions of ViT model directories: {@code config.json}
 * (timm's Swin fields, {@link SwinConfigJson}) and {@code model.safetensors} in the official layout or timm's
 * (converted and its buffers checked by {@link SwinCheckpoint}, the one door for Swin weights).
 */
public final class SwinFiles {
    private SwinFiles() {
    }

    /** Which family the config.json at {@code location} describes ({@link Family}, the one door). */
    public static Family family(Storage storage, String location) {
        return Family.of(JobFiles.readConfigObject(storage, location));
    }

    public static SwinConfig readConfig(Storage storage, String location) {
        return SwinConfigJson.fromJson(JobFiles.readConfigObject(storage, location), location);
    }

    public static StateDict readWeights(Storage storage, String location, SwinConfig config) {
        return SwinCheckpoint.fromPyTorch(Weights.read(storage, Weights.configured(location)), config, location);
    }

    /** Writes {@code dir/model.safetensors} and {@code dir/config.json}, each atomically. */
    public static void writeModel(Storage storage, Path dir, SwinConfig config, StateDict weights) {
        JobFiles.writeModel(storage, dir, SwinConfigJson.toJsonString(config), weights);
    }
}
