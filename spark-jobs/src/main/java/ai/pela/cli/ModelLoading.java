package ai.pela.cli;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.config.Presets;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loading a model's config and checkpoint from the command line's files, with the checks done up front. */
final class ModelLoading {
    private ModelLoading() {
    }

    static ModelConfig config(String preset, Path configFile) {
        if ((preset == null) == (configFile == null)) {
            throw new PelaException("give exactly one of --preset and --config");
        }
        return preset != null ? Presets.get(preset) : ConfigJson.read(configFile);
    }

    /** Reads a safetensors checkpoint and checks it has exactly the keys and shapes {@code config} needs. */
    static StateDict weights(ModelConfig config, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PelaException(file + ": checkpoint file does not exist");
        }
        return Weights.read(Storage.local(), file.toString(), VitLayout.parameterShapes(config));
    }
}
