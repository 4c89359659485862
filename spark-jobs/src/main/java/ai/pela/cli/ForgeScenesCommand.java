package ai.pela.cli;

import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.spark.demo.ForgedScenes;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code forge-scenes}: a small ADE20K + COCO set made of real Fashion-MNIST items, for train-head and evaluate. */
@Command(name = "forge-scenes", mixinStandardHelpOptions = true,
        description = "Writes forged scenes (real Fashion-MNIST items, scaled, tinted and placed on gradient "
                + "backgrounds) as ADE20K folders (<out>/ADEChallengeData2016) and COCO instances (<out>/coco), with "
                + "exact label maps and boxes; the same options give the same bytes, and a directory already forged "
                + "with them is reused.")
final class ForgeScenesCommand implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "runs/scenes", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--train", defaultValue = "2000", description = "Training scenes (default: ${DEFAULT-VALUE}).")
    int train;

    @Option(names = "--val", defaultValue = "200", description = "Validation scenes (default: ${DEFAULT-VALUE}).")
    int val;

    @Option(names = "--size", defaultValue = "56", description = "Canvas side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--max-items", defaultValue = "2", description = "At most this many items per scene "
            + "(default: ${DEFAULT-VALUE}).")
    int maxItems;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--plain", description = "Grey items on black, as Fashion-MNIST itself looks (the domain the "
            + "demo's ViT was trained in), instead of tinted items on coloured gradients.")
    boolean plain;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        Path root = out.toAbsolutePath().normalize();
        Path idx = FashionMnistExport.locateOrFetch(root.resolveSibling(root.getFileName() + "-cache"));
        ForgedScenes.Summary s = ForgedScenes.write(idx, root, new ForgedScenes.Options(seed, train, val, size, maxItems, plain));
        System.out.printf("%s: %d + %d scenes, %d objects (%d small, %d medium, %d large)%s%n", s.root(),
                s.trainImages(), s.valImages(), s.objects(), s.small(), s.medium(), s.large(),
                s.reused() ? " (already there)" : "");
        return 0;
    }
}
