package ai.pela.spark.jobs;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitLayout;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.Path;

/** Model files read and written through Hadoop paths (config.json and safetensors checkpoints). */
public final class JobFiles {
    private JobFiles() {
    }

    public static ModelConfig readConfig(Storage storage, String location) {
        ObjectNode root = readConfigObject(storage, location);
        if (Family.of(root) == Family.SWIN) {
            // Read as a ViT, a Swin config would fail on some default field; say what it is instead.
            throw new PelaException(location + ": a Swin config.json, but this takes a ViT (Swin runs through "
                    + "model-info, compress, predict, train-teacher, pretrain, evaluate, bench-step and bench)");
        }
        return ConfigJson.fromJson(root, location);
    }

    /** The config.json at {@code location} as JSON, for each family's reader to map onto its own config. */
    public static ObjectNode readConfigObject(Storage storage, String location) {
        if (location == null || location.isBlank()) {
            throw new PelaException("configuration key 'pela.model.config' is not set: give the model's config.json");
        }
        try (InputStream in = storage.open(Storage.path(location))) {
            return ConfigJson.readObject(in, location);
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static StateDict readWeights(Storage storage, String location, ModelConfig config) {
        return Weights.read(storage, Weights.configured(location), VitLayout.parameterShapes(config));
    }

    /** Writes {@code dir/model.safetensors} and {@code dir/config.json}, each atomically. */
    public static void writeModel(Storage storage, Path dir, ModelConfig config, StateDict weights) {
        writeModel(storage, dir, ConfigJson.toJsonString(config), weights);
    }

    /** As above for any family: {@code configJson} is the family's config.json text. */
    public static void writeModel(Storage storage, Path dir, String configJson, StateDict weights) {
        storage.mkdirs(dir);
        storage.writeAtomically(new Path(dir, "model.safetensors"), out -> Safetensors.write(weights, out));
        writeText(storage, new Path(dir, "config.json"), configJson);
    }

    public static void writeText(Storage storage, Path file, String text) {
        storage.writeAtomically(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }
}
