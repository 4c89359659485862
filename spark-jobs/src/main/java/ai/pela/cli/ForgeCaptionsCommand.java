package ai.pela.cli;

import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.spark.demo.ForgedCaptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code forge-captions}: a small ALBEF image-caption set made of real Fashion-MNIST items, for pretrain. */
@Command(name = "forge-captions", mixinStandardHelpOptions = true,
        description = "Writes captioned scenes (one or two real Fashion-MNIST items per canvas, captioned from their "
                + "real positions: \"a sneaker to the left of a shirt\") in ALBEF's formats: <out>/pretrain.json "
                + "(pre-training list) and <out>/retrieval_val.json (retrieval val/test), images under <out>/images. "
                + "The same options give the same bytes; a directory already forged with them is reused.")
final class ForgeCaptionsCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/captions", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--train", defaultValue = "2000", description = "Training images (default: ${DEFAULT-VALUE}).")
    int train;

    @Option(names = "--val", defaultValue = "200", description = "Validation images (default: ${DEFAULT-VALUE}).")
    int val;

    @Option(names = "--size", defaultValue = "56", description = "Canvas side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--plain", description = "Grey items on black instead of tinted items on coloured gradients.")
    boolean plain;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Path root = out.toAbsolutePath().normalize();
        Path idx = FashionMnistExport.locateOrFetch(root.resolveSibling(root.getFileName() + "-cache"));
        ForgedCaptions.Summary s = ForgedCaptions.write(idx, root, new ForgedCaptions.Options(seed, train, val, size, plain));
        System.out.printf("%s: %d + %d captioned images (%s, %s)%s%n", s.root(), s.trainImages(), s.valImages(),
                ForgedCaptions.PRETRAIN, ForgedCaptions.RETRIEVAL_VAL, s.reused() ? " (already there)" : "");
        return 0;
    }
}
