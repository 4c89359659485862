package ai.pela.cli;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.config.Presets;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinCheckpoint;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinPresets;
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

    /** Which family the command's model is, from its preset name or its config.json ({@link Family}, the one door). */
    static Family family(String preset, Path configFile) {
        if ((preset == null) == (configFile == null)) {
            throw new PelaException("give exactly one of --preset and --config");
        }
        return preset != null ? Family.ofPreset(preset) : Family.of(configFile);
    }

    static SwinConfig swinConfig(String preset, Path configFile) {
        return preset != null ? SwinPresets.get(preset) : SwinConfigJson.read(configFile);
    }

    /** A Swin checkpoint in the official or timm's layout, through {@link SwinCheckpoint} (buffers checked, dropped). */
    static StateDict swinWeights(SwinConfig config, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PelaException(file + ": checkpoint file does not exist");
        }
        return SwinCheckpoint.fromPyTorch(Weights.read(Storage.local(), file.toString()), config, file.toString());
    }

    /** Reads a safetensors checkpoint and checks it has exactly the keys and shapes {@code config} needs. */
    static StateDict weights(ModelConfig config, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PelaException(file + ": checkpoint file does not exist");
        }
        return Weights.read(Storage.local(), file.toString(), VitLayout.parameterShapes(config));
    }
}
