package ai.pela.cli;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.Npy;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinModel;
import ai.pela.zoo.vit.VitModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pela predict}: logits of a normalised NCHW float32 batch, for a teacher or a compressed student. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Run a model (dense teacher or PELA student) on an NCHW float32 .npy batch, already "
                + "normalised; write the float32 logits [N, num_classes] as .npy.")
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The model's config.json.")
    Path config;

    @Option(names = "--weights", required = true, description = "The model's checkpoint (.safetensors).")
    Path weights;

    @Option(names = "--input", required = true, description = "Input batch X.npy [N, C, H, W] float32.")
    Path input;

    @Option(names = "--output", required = true, description = "Output logits Y.npy [N, num_classes] float32.")
    Path output;

    @Option(names = "--batch-size", defaultValue = "64", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Mixin
    CommonOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (batchSize < 1) {
            throw new PelaException("--batch-size must be >= 1, got " + batchSize);
        }
        boolean swin = ModelLoading.family(null, config) == Family.SWIN;
        SwinConfig swinConfig = swin ? SwinConfigJson.read(config) : null;
        ModelConfig vitConfig = swin ? null : ConfigJson.read(config);
        StateDict sd = swin ? ModelLoading.swinWeights(swinConfig, weights) : ModelLoading.weights(vitConfig, weights);
        if (!Files.isRegularFile(input)) {
            throw new PelaException(input + ": input file does not exist");
        }
        INDArray x = Npy.read(input);
        long[] s = x.shape();
        if (swin) {
            SwinModel.checkInputShape(swinConfig, s, input.toString());
        } else {
            VitModel.checkInputShape(vitConfig, s, input.toString());
        }
        if (x.dataType() != DataType.FLOAT) {
            throw new PelaException(input + ": input must be float32, got " + x.dataType());
        }
        long start = System.nanoTime();
        INDArray logits = swin ? SwinModel.create(swinConfig, sd, weights.toString()).logits(x, batchSize)
                : VitModel.create(vitConfig, sd, weights.toString()).logits(x, batchSize);
        Npy.write(logits, output);
        PrintWriter pw = spec.commandLine().getOut();
        pw.printf("%d images -> %s %s in %.2f s%n", s[0], output, java.util.Arrays.toString(logits.shape()),
                (System.nanoTime() - start) / 1e9);
        pw.flush();
        return 0;
    }
}
