package ai.pela.spark.swin;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinCheckpoint;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
        return Family.of(readObject(storage, location));
    }

    public static SwinConfig readConfig(Storage storage, String location) {
        return SwinConfigJson.fromJson(readObject(storage, location), location);
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

    public static StateDict readWeights(Storage storage, String location, SwinConfig config) {
        return SwinCheckpoint.fromPyTorch(Weights.read(storage, Weights.configured(location)), config, location);
    }

    /** Writes {@code dir/model.safetensors} and {@code dir/config.json}, each atomically. */
    public static void writeModel(Storage storage, Path dir, SwinConfig config, StateDict weights) {
        storage.mkdirs(dir);
        storage.writeAtomically(new Path(dir, "model.safetensors"), out -> Safetensors.write(weights, out));
        byte[] json = SwinConfigJson.toJsonString(config).getBytes(StandardCharsets.UTF_8);
        storage.writeAtomically(new Path(dir, "config.json"), out -> out.write(json));
    }
}
