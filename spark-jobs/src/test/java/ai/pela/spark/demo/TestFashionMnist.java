package ai.pela.spark.demo;

import java.nio.file.Path;

/**
 * The real Fashion-MNIST IDX files for tests, found the way {@code pela demo} finds them: {@code $PELA_FASHION_MNIST},
 * else Debian's {@code dataset-fashion-mnist} if installed, else the package fetched once (apt-get download, no root)
 * into this module's {@code target/fashion-mnist-cache}, which later test runs reuse — so {@code mvn verify} passes on
 * a machine where the package is not installed.
 */
public final class TestFashionMnist {
    /** Under the module's build directory (surefire runs in the module directory): {@code mvn clean} removes it. */
    static final Path CACHE = Path.of("target", "fashion-mnist-cache");

    private TestFashionMnist() {
    }

    /** The directory holding the four IDX files, fetching them on first use where they are not installed. */
    public static synchronized Path idxDir() {
        return FashionMnistExport.locateOrFetch(CACHE.toAbsolutePath());
    }
}
