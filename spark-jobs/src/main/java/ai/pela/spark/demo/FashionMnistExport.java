package ai.pela.spark.demo;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.data.Idx;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Real Fashion-MNIST (Zalando, MIT licence; Debian's {@code dataset-fashion-mnist}) written in the ImageNet folder
 * layout {@code root/{train,val}/<class>/<index>.png}, so that the demo trains through the same loader as a real
 * ImageNet run rather than through a special path.
 *
 * <p>The export is idempotent and crash-safe: it is written into {@code <root>.tmp-<uuid>} beside the target and
 * renamed into place only when complete, with a {@value #MARKER} file recording what was exported. A later call
 * asking for the same counts finds the marker and does nothing; an interrupted call leaves no half-written
 * {@code root} behind.
 */
public final class FashionMnistExport {
    static {
        // PNG encoding goes through java.awt.image; a server has no display, and AWT must learn that before first use.
        System.setProperty("java.awt.headless", "true");
    }

    private static final Logger LOG = LoggerFactory.getLogger(FashionMnistExport.class);

    /** Environment variable naming a directory that holds the four IDX files; overrides every other location. */
    public static final String ENV = "PELA_FASHION_MNIST";
    /** Where Debian's {@code dataset-fashion-mnist} installs the files. */
    public static final Path SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String PACKAGE = "dataset-fashion-mnist";

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    public static final String VAL_IMAGES = "t10k-images-idx3-ubyte.gz";
    public static final String VAL_LABELS = "t10k-labels-idx1-ubyte.gz";
    public static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, VAL_IMAGES, VAL_LABELS);

    /**
     * Class folder names. The loader numbers classes by sorted folder name, so the label is the prefix: sorted
     * order is label order and class index i means the same garment as Fashion-MNIST's label i.
     */
    public static final List<String> CLASS_DIRS = List.of("0_t-shirt_top", "1_trouser", "2_pullover", "3_dress",
            "4_coat", "5_sandal", "6_shirt", "7_sneaker", "8_bag", "9_ankle_boot");

    /** Hidden (leading '.'), so the image-folder loader ignores it. */
    public static final String MARKER = ".complete";
    private static final int MARKER_FORMAT = 1;
    private static final int SIDE = 28;
    private static final int PROGRESS_EVERY = 10_000;
    /** Leftovers of a killed export older than this are removed; younger ones may belong to a running export. */
    private static final long STALE_MILLIS = 60L * 60 * 1000;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What an export produced; {@code reused} when a previous export with the same counts was found. */
    public record Summary(Path root, int trainImages, int valImages, double seconds, boolean reused) {
    }

    private FashionMnistExport() {
    }

    // ---------------------------------------------------------------------------------------------- locating

    /**
     * The directory holding the four {@code .gz} IDX files: {@code $PELA_FASHION_MNIST} if set (it must be
     * complete), else {@link #SYSTEM_DIR} if complete, else {@code cacheDir/fashion-mnist} if complete, else the
     * Debian package fetched into {@code cacheDir/fashion-mnist} without root rights.
     *
     * @throws PelaException when the variable names an incomplete directory, or fetching fails (saying what to install)
     */
    public static Path locateOrFetch(Path cacheDir) {
        return locate(System.getenv(ENV), SYSTEM_DIR, cacheDir, FashionMnistFetch::fetch);
    }

    /** {@link #locateOrFetch} with its environment and its fetcher given, so that the choice can be tested. */
    static Path locate(String envDir, Path systemDir, Path cacheDir, UnaryOperator<Path> fetcher) {
        if (envDir != null && !envDir.isBlank()) {
            Path dir = Path.of(envDir);
            List<String> missing = missingFiles(dir);
            if (!missing.isEmpty()) {
                throw new PelaException(ENV + "=" + envDir + ": " + describeMissing(dir, missing));
            }
            LOG.info("Fashion-MNIST from {} ({})", dir, ENV);
            return dir;
        }
        if (missingFiles(systemDir).isEmpty()) {
            LOG.info("Fashion-MNIST from {}", systemDir);
            return systemDir;
        }
        Path cached = cacheDir.resolve("fashion-mnist");
        if (missingFiles(cached).isEmpty()) {
            LOG.info("Fashion-MNIST from {} (fetched earlier)", cached);
            return cached;
        }
        LOG.info("Fashion-MNIST is not installed in {}; fetching Debian package {} into {}", systemDir, PACKAGE, cached);
        return fetcher.apply(cached);
    }

    /** The IDX files absent from {@code dir}; an empty file counts as absent (a failed download leaves those). */
    static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String f : FILES) {
            Path p = dir.resolve(f);
            if (!isNonEmptyFile(p)) {
                missing.add(f);
            }
        }
        return missing;
    }

    private static boolean isNonEmptyFile(Path p) {
        try {
            return Files.isRegularFile(p) && Files.size(p) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    static String describeMissing(Path dir, List<String> missing) {
        if (!Files.isDirectory(dir)) {
            return "directory " + dir + " does not exist (expected the Fashion-MNIST files " + String.join(", ", FILES) + ")";
        }
        return "not a Fashion-MNIST directory: " + dir + " lacks " + String.join(", ", missing);
    }

    // ---------------------------------------------------------------------------------------------- exporting

    /**
     * Writes {@code outRoot/train/<class>/<index>.png} from the 60,000 training items and {@code outRoot/val/...}
     * from the 10,000 test items; {@code trainLimit}/{@code valLimit} keep only the first items (0 = all). Does
     * nothing when {@code outRoot} already holds an export with the same limits. Every IDX file is read and checked
     * before anything is written.
     *
     * @throws PelaException naming the file, for a missing or malformed IDX file, or when {@code outRoot} is a
     *     non-empty directory that this class did not write
     */
    public static Summary export(Path idxDir, Path outRoot, int trainLimit, int valLimit) {
        checkLimit("trainLimit", trainLimit);
        checkLimit("valLimit", valLimit);
        long start = System.nanoTime();
        Path root = outRoot.toAbsolutePath().normalize();
        Summary previous = existingExport(root, trainLimit, valLimit, start);
        if (previous != null) {
            return previous;
        }
        refuseForeignDirectory(root);
        List<String> missing = missingFiles(idxDir);
        if (!missing.isEmpty()) {
            throw new PelaException(describeMissing(idxDir, missing));
        }
        Split train = Split.read("train", idxDir.resolve(TRAIN_IMAGES), idxDir.resolve(TRAIN_LABELS), trainLimit);
        Split val = Split.read("val", idxDir.resolve(VAL_IMAGES), idxDir.resolve(VAL_LABELS), valLimit);
        removeStaleLeftovers(root);
        writeAndPublish(root, idxDir, train, val, trainLimit, valLimit);
        double seconds = secondsSince(start);
        LOG.info("Fashion-MNIST exported to {}: {} train + {} val PNGs in {} s", root, train.count(), val.count(),
                String.format(Locale.ROOT, "%.1f", seconds));
        return new Summary(root, train.count(), val.count(), seconds, false);
    }

    private static void checkLimit(String name, int limit) {
        if (limit < 0) {
            throw new PelaException(name + " must be >= 0 (0 = all items), got " + limit);
        }
    }

    /** The summary of a previous export with the same limits, or null. */
    private static Summary existingExport(Path root, int trainLimit, int valLimit, long start) {
        JsonNode marker = readMarker(root);
        if (marker == null || !markerMatches(marker, trainLimit, valLimit)) {
            return null;
        }
        int train = marker.path("train").asInt();
        int val = marker.path("val").asInt();
        LOG.info("Fashion-MNIST already exported in {} ({} train + {} val PNGs); nothing to do", root, train, val);
        return new Summary(root, train, val, secondsSince(start), true);
    }

    private static JsonNode readMarker(Path root) {
        Path file = root.resolve(MARKER);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            // Our own file, yet unreadable: the export it describes cannot be trusted, so it is redone.
            LOG.warn("{}: unreadable export marker ({}); exporting again", file, e.getMessage());
            return null;
        }
    }

    private static boolean markerMatches(JsonNode m, int trainLimit, int valLimit) {
        return m.path("format").asInt() == MARKER_FORMAT
                && m.path("train_limit").asInt(-1) == trainLimit
                && m.path("val_limit").asInt(-1) == valLimit
                && m.path("classes").toString().equals(JSON.valueToTree(CLASS_DIRS).toString());
    }

    /** Replacing a directory is safe only when it is empty or one of our exports (it has a marker). */
    private static void refuseForeignDirectory(Path root) {
        if (!Files.exists(root) || Files.isRegularFile(root.resolve(MARKER))) {
            return;
        }
        if (!Files.isDirectory(root)) {
            throw new PelaException(root + ": exists and is not a directory; cannot export Fashion-MNIST there");
        }
        try (var entries = Files.list(root)) {
            if (entries.findAny().isPresent()) {
                throw new PelaException(root + ": non-empty directory without a " + MARKER
                        + " marker, so not a Fashion-MNIST export of this program; remove it or choose another output directory");
            }
        } catch (IOException e) {
            throw new PelaException(root + ": cannot list directory: " + e.getMessage(), e);
        }
    }

    /** Writes everything into a temporary sibling and renames it onto {@code root} once complete. */
    private static void writeAndPublish(Path root, Path idxDir, Split train, Split val, int trainLimit, int valLimit) {
        Path tmp = root.resolveSibling(root.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            writeSplit(tmp, train);
            writeSplit(tmp, val);
            writeMarker(tmp, idxDir, train, val, trainLimit, valLimit);
            publish(tmp, root);
        } catch (IOException e) {
            throw new PelaException(root + ": cannot write the Fashion-MNIST export: " + e, e);
        } catch (UncheckedIOException e) {
            throw new PelaException(root + ": cannot write the Fashion-MNIST export: " + e.getCause(), e);
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    private static void writeSplit(Path tmpRoot, Split split) throws IOException {
        Path splitDir = tmpRoot.resolve(split.name());
        List<Path> classDirs = new ArrayList<>();
        // Every class folder exists even if a limit leaves it empty: skipping one would renumber the classes after it.
        for (String c : CLASS_DIRS) {
            classDirs.add(Files.createDirectories(splitDir.resolve(c)));
        }
        AtomicInteger done = new AtomicInteger();
        // The common pool uses every core; PNG encoding, not the disk, is the bottleneck.
        IntStream.range(0, split.count()).parallel().forEach(i -> {
            writePng(split, i, classDirs.get(split.label(i)));
            int n = done.incrementAndGet();
            if (n % PROGRESS_EVERY == 0) {
                LOG.info("Fashion-MNIST {}: {} / {} PNGs written", split.name(), n, split.count());
            }
        });
    }

    private static void writePng(Split split, int index, Path classDir) {
        BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
        byte[] pixels = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(split.pixels(), index * SIDE * SIDE, pixels, 0, SIDE * SIDE);
        Path file = classDir.resolve(split.fileName(index));
        try {
            Files.write(file, encodePng(img));
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": " + e.getMessage(), e));
        }
    }

    /**
     * PNG bytes of {@code img}, encoded in memory. {@code ImageIO.write(img, "png", File)} issues many small
     * unbuffered writes per image and made the export four times slower; one write per file is the fast path.
     */
    static byte[] encodePng(BufferedImage img) throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IllegalStateException("this Java runtime has no PNG writer (javax.imageio)");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(img);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    private static void writeMarker(Path tmpRoot, Path idxDir, Split train, Split val, int trainLimit, int valLimit)
            throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", MARKER_FORMAT);
        m.put("source", idxDir.toAbsolutePath().toString());
        m.put("train", train.count());
        m.put("val", val.count());
        m.put("train_limit", trainLimit);
        m.put("val_limit", valLimit);
        m.set("classes", JSON.valueToTree(CLASS_DIRS));
        JSON.writeValue(tmpRoot.resolve(MARKER).toFile(), m);
    }

    /**
     * Atomic rename onto {@code root}. A previous export is first renamed aside (a directory cannot be renamed onto
     * a non-empty one) and deleted afterwards, so at every instant {@code root} is either absent or complete.
     */
    static void publish(Path tmp, Path root) throws IOException {
        if (!Files.exists(root)) {
            Files.move(tmp, root, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path old = root.resolveSibling(root.getFileName() + ".old-" + UUID.randomUUID());
        Files.move(root, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, root, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.deleteQuietly(old);
    }

    /** Removes {@code <root>.tmp-*} and {@code <root>.old-*} siblings that a killed export left (70k files each). */
    private static void removeStaleLeftovers(Path root) {
        Path parent = root.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        String prefix = root.getFileName().toString();
        long cutoff = System.currentTimeMillis() - STALE_MILLIS;
        try (var siblings = Files.list(parent)) {
            siblings.filter(p -> isLeftover(p.getFileName().toString(), prefix))
                    .filter(p -> FileTrees.modifiedBefore(p, cutoff))
                    .forEach(p -> {
                        LOG.info("removing {}, left by an interrupted export", p);
                        FileTrees.deleteQuietly(p);
                    });
        } catch (IOException e) {
            LOG.warn("{}: cannot look for leftovers of interrupted exports: {}", parent, e.getMessage());
        }
    }

    private static boolean isLeftover(String name, String prefix) {
        return name.startsWith(prefix + ".tmp-") || name.startsWith(prefix + ".old-");
    }

    private static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** One split's images (row-major, 28×28 bytes each) and labels, cut to the limit and checked. */
    record Split(String name, byte[] pixels, byte[] labels, int count, int nameWidth) {

        static Split read(String name, Path imagesFile, Path labelsFile, int limit) {
            Idx.UByteArray images = Idx.read(imagesFile);
            Idx.UByteArray labels = Idx.read(labelsFile);
            checkShapes(imagesFile, images, labelsFile, labels);
            int total = images.count();
            int count = limit == 0 ? total : Math.min(limit, total);
            checkLabels(labelsFile, labels.data(), count);
            // Names are zero-padded to the full split's width, so name order is item order at any limit.
            int width = Integer.toString(total - 1).length();
            return new Split(name, images.data(), labels.data(), count, width);
        }

        private static void checkShapes(Path imagesFile, Idx.UByteArray images, Path labelsFile, Idx.UByteArray labels) {
            int[] d = images.dims();
            if (d.length != 3 || d[1] != SIDE || d[2] != SIDE) {
                throw new PelaException(imagesFile + ": expected Fashion-MNIST images [N, 28, 28], got dimensions "
                        + Arrays.toString(d));
            }
            if (d[0] == 0) {
                throw new PelaException(imagesFile + ": holds no images");
            }
            if (labels.dims().length != 1) {
                throw new PelaException(labelsFile + ": expected a rank-1 label file, got dimensions "
                        + Arrays.toString(labels.dims()));
            }
            if (labels.count() != d[0]) {
                throw new PelaException(labelsFile + ": " + labels.count() + " labels, but " + imagesFile.getFileName()
                        + " has " + d[0] + " images");
            }
        }

        private static void checkLabels(Path labelsFile, byte[] labels, int count) {
            for (int i = 0; i < count; i++) {
                int label = labels[i] & 0xff;
                if (label >= CLASS_DIRS.size()) {
                    throw new PelaException(labelsFile + ": label " + label + " of item " + i
                            + " is not a Fashion-MNIST class (0-9)");
                }
            }
        }

        int label(int index) {
            return labels[index] & 0xff;
        }

        String fileName(int index) {
            return String.format(Locale.ROOT, "%0" + nameWidth + "d.png", index);
        }
    }
}
