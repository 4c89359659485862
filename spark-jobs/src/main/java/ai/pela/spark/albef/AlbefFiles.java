package ai.pela.spark.albef;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefCheckpoint;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
        return AlbefConfigJson.isAlbef(readObject(storage, location));
    }

    public static AlbefConfig readConfig(Storage storage, String location) {
        return AlbefConfigJson.fromJson(readObject(storage, location), location);
    }

    private static ObjectNode readObject(Storage storage, String location) {
        if (location == null || location.isBlank()) {
            throw new PelaException("configuration key 'pela.model.config' is not set: give the model's config.json");
        }
        try (InputStream in = storage.open(Storage.path(location))) {
            return ConfigJson.readObject(in, location);
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    public static StateDict readWeights(Storage storage, String location, AlbefConfig config) {
        // ALBEF's released checkpoints hold PyTorch's names (and foreign keys): the conversion maps and checks them.
        return AlbefCheckpoint.fromPyTorch(Weights.read(storage, Weights.configured(location)), config, location);
    }

    /** Writes {@code dir/model.safetensors} and {@code dir/config.json}, each atomically. */
    public static void writeModel(Storage storage, Path dir, AlbefConfig config, StateDict weights) {
        storage.mkdirs(dir);
        storage.writeAtomically(new Path(dir, "model.safetensors"), out -> Safetensors.write(weights, out));
        byte[] json = ConfigJson.toJsonString(AlbefConfigJson.toJson(config)).getBytes(StandardCharsets.UTF_8);
        storage.writeAtomically(new Path(dir, "config.json"), out -> out.write(json));
    }
}
