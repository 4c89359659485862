package ai.pela.spark.demo;

import ai.pela.zoo.testing.FashionMnist;
import java.nio.file.Path;

/** Forged scenes for tests of other packages, from the 256 real Fashion-MNIST items of model-zoo's test resources. */
public final class ForgedFixtures {
    private ForgedFixtures() {
    }

    public static ForgedScenes.Summary write(Path root, long seed, int train, int val, int size, int maxItems,
            boolean plain) {
        FashionMnistExport.Split items = FashionMnistExport.Split.read("train",
                FashionMnist.file("train256-images-idx3-ubyte.gz"), FashionMnist.file("train256-labels-idx1-ubyte.gz"), 0);
        return ForgedScenes.write(items, items, root, new ForgedScenes.Options(seed, train, val, size, maxItems, plain));
    }

    /** Forged captioned scenes ({@link ForgedCaptions}) from the same 256 items. */
    public static ForgedCaptions.Summary captions(Path root, long seed, int train, int val, int size) {
        FashionMnistExport.Split items = FashionMnistExport.Split.read("train",
                FashionMnist.file("train256-images-idx3-ubyte.gz"), FashionMnist.file("train256-labels-idx1-ubyte.gz"), 0);
        return ForgedCaptions.write(items, items, root, new ForgedCaptions.Options(seed, train, val, size, false));
    }
}
