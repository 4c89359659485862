package ai.pela.spark.demo;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches Debian's {@code dataset-fashion-mnist} without root rights: {@code apt-get download} puts the .deb in
 * a scratch directory and {@code dpkg-deb -x} unpacks it there; the four IDX files are then moved into the
 * cache. Nothing is installed system-wide, so this works for an unprivileged user of a Debian or Ubuntu machine
 * whose package lists know the package.
 */
final class FashionMnistFetch {
    private static final Logger LOG = LoggerFactory.getLogger(FashionMnistFetch.class);
    /** Where the package puts the files, relative to the root it is unpacked into. */
    private static final String PACKAGE_DIR = "usr/share/datasets/fashion-mnist";
    /** The package is about 30 MB; a slow mirror gets this long before we give up. */
    private static final long TIMEOUT_MINUTES = 15;
    private static final int OUTPUT_LINES_IN_ERROR = 2;

    /** A step of the fetch failed; {@code getMessage()} says which and why, for the user. */
    private static final class FetchFailure extends Exception {
        FetchFailure(String message) {
            super(message);
        }
    }

    private FashionMnistFetch() {
    }

    /**
     * Fills {@code target} with the four IDX files and returns it.
     *
     * @throws PelaException saying what failed and what to install instead
     */
    static Path fetch(Path target) {
        Path work = null;
        try {
            Path parent = target.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            // Inside the target's parent, so the final moves are renames on one file system.
            work = Files.createTempDirectory(parent, "fashion-mnist.fetch-");
            Path deb = download(work);
            Path unpacked = unpack(deb, work);
            install(unpacked, target);
            LOG.info("Fashion-MNIST fetched into {}", target);
            return target;
        } catch (FetchFailure e) {
            throw failure(target, e.getMessage(), e);
        } catch (IOException e) {
            throw failure(target, "cannot write " + target + ": " + e, e);
        } finally {
            if (work != null) {
                FileTrees.deleteQuietly(work);
            }
        }
    }

    private static PelaException failure(Path target, String what, Exception cause) {
        return new PelaException("Fashion-MNIST is not installed (" + FashionMnistExport.SYSTEM_DIR
                + " lacks its files) and fetching it into " + target + " failed: " + what
                + ". Install it with `apt-get install " + FashionMnistExport.PACKAGE + "` (after `apt-get update`), or set "
                + FashionMnistExport.ENV + " to a directory holding " + String.join(", ", FashionMnistExport.FILES), cause);
    }

    private static Path download(Path work) throws FetchFailure {
        LOG.info("apt-get download {} ...", FashionMnistExport.PACKAGE);
        run(work, List.of("apt-get", "download", FashionMnistExport.PACKAGE));
        try (Stream<Path> files = Files.list(work)) {
            List<Path> debs = files.filter(p -> p.getFileName().toString().endsWith(".deb")).toList();
            if (debs.size() != 1) {
                throw new FetchFailure("`apt-get download " + FashionMnistExport.PACKAGE + "` succeeded but left "
                        + debs.size() + " .deb files in " + work);
            }
            return debs.get(0);
        } catch (IOException e) {
            throw new FetchFailure("cannot list " + work + ": " + e.getMessage());
        }
    }

    private static Path unpack(Path deb, Path work) throws FetchFailure {
        Path root = work.resolve("root");
        LOG.info("dpkg-deb -x {} ...", deb.getFileName());
        run(work, List.of("dpkg-deb", "-x", deb.toString(), root.toString()));
        Path dir = root.resolve(PACKAGE_DIR);
        List<String> missing = FashionMnistExport.missingFiles(dir);
        if (!missing.isEmpty()) {
            throw new FetchFailure(deb.getFileName() + " does not contain /" + PACKAGE_DIR + "/" + String.join(", ", missing));
        }
        return dir;
    }

    /**
     * Moves the files in one by one, each by an atomic rename. The directory counts as complete only when all four
     * are present, so a crash midway makes the next run fetch again rather than read a partial set.
     */
    private static void install(Path from, Path target) throws IOException {
        Files.createDirectories(target);
        for (String f : FashionMnistExport.FILES) {
            Files.move(from.resolve(f), target.resolve(f), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Runs a command in {@code work}, its output going to a log file there, and fails unless it exits with 0. */
    private static void run(Path work, List<String> command) throws FetchFailure {
        String shown = "`" + String.join(" ", command) + "`";
        Path log = work.resolve(command.get(0) + ".log");
        Process p;
        try {
            p = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            // Nothing to answer: a closed stdin makes any unexpected prompt fail instead of hanging until the timeout.
            p.getOutputStream().close();
        } catch (IOException e) {
            throw new FetchFailure(shown + " could not be started (" + e.getMessage()
                    + "); this needs a Debian or Ubuntu machine with apt-get and dpkg-deb");
        }
        int rc = waitFor(p, shown);
        List<String> output = readLines(log);
        output.forEach(line -> LOG.info("  {}", line));
        if (rc != 0) {
            throw new FetchFailure(shown + " exited with " + rc + lastLines(output));
        }
    }

    private static int waitFor(Process p, String shown) throws FetchFailure {
        try {
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new FetchFailure(shown + " did not finish within " + TIMEOUT_MINUTES + " minutes");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FetchFailure(shown + " was interrupted");
        }
    }

    private static List<String> readLines(Path log) {
        try {
            // Decoded leniently: a stray non-UTF-8 byte in apt's output must not hide its error message.
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The end of a command's output, where apt-get and dpkg put their error, as part of a one-line message. */
    private static String lastLines(List<String> output) {
        if (output.isEmpty()) {
            return "";
        }
        List<String> tail = output.subList(Math.max(0, output.size() - OUTPUT_LINES_IN_ERROR), output.size());
        return ": " + String.join(" / ", tail.stream().map(String::strip).toList());
    }
}
