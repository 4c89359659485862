package ai.pela.spark.demo;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Recursive deletion for the demo's temporary directories, which hold tens of thousands of files. */
final class FileTrees {
    private static final Logger LOG = LoggerFactory.getLogger(FileTrees.class);

    private FileTrees() {
    }

    /**
     * Deletes {@code dir} and everything under it, without following symbolic links. Used for clean-up after
     * success or failure, where an error must not hide the original one: failures are logged, not thrown.
     */
    static void deleteQuietly(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null) {
                        throw e;
                    }
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.warn("{}: could not delete temporary directory: {}", dir, e.toString());
        }
    }

    /** Whether {@code p} was last modified before {@code cutoffMillis}; false when that cannot be told. */
    static boolean modifiedBefore(Path p, long cutoffMillis) {
        try {
            return Files.getLastModifiedTime(p).toMillis() < cutoffMillis;
        } catch (IOException e) {
            return false;
        }
    }
}
