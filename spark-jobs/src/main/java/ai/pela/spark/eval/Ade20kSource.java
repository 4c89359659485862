package ai.pela.spark.eval;

import ai.pela.spark.data.BadImageException;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.ImageDecoder;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * The ADE20K scene-parsing benchmark (SceneParsing / ADEChallengeData2016) on any Hadoop file system:
 * {@code root/images/<split>/<name>.jpg} with its label map {@code root/annotations/<split>/<name>.png}, split
 * {@code training} or {@code validation}.
 *
 * <p>A label map is an 8-bit single-channel PNG whose value is 0 for "other" and 1..150 for the classes. Labels
 * are turned into training classes as mmseg's {@code reduce_zero_label} does: 0 becomes the ignore index 255, every
 * other value v becomes v − 1 (so 255 stays 255). Values 151..254 are an error, not silently ignored, since they
 * mean the file is not an ADE20K label map. Palette PNGs are read as their indices, as PIL (and so mmseg) reads them.
 *
 * <p>{@link #list} runs on the driver and fails on layout problems before any executor starts; {@link #load}
 * runs on executors and fails naming the file.
 */
public final class Ade20kSource {
    public static final int NUM_CLASSES = 150;
    public static final String TRAINING = "training";
    public static final String VALIDATION = "validation";
    private static final String ANNOTATION_SUFFIX = ".png";
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png");
    private static final int MAX_MISSING_NAMED = 3;

    private final Storage storage;
    private final String root;

    /** {@code root} is the {@code ADEChallengeData2016} directory, any Hadoop path. */
    public Ade20kSource(Storage storage, String root) {
        this.storage = storage;
        this.root = root.endsWith("/") && root.length() > 1 ? root.substring(0, root.length() - 1) : root;
    }

    public String root() {
        return root;
    }

    /**
     * Every image of the split with its label map, sorted by image name.
     *
     * @throws PelaException naming the directory or file: a missing split directory, an empty split, an image
     *     without a label map, or a label map without an image
     */
    public List<SegSample> list(String split) {
        Path imageDir = Storage.path(root + "/images/" + split);
        Path annotationDir = Storage.path(root + "/annotations/" + split);
        List<Path> images = files(imageDir, split, "images");
        Set<String> annotations = new LinkedHashSet<>();
        for (Path p : files(annotationDir, split, "annotations")) {
            if (p.getName().toLowerCase(Locale.ROOT).endsWith(ANNOTATION_SUFFIX)) {
                annotations.add(p.getName());
            }
        }
        List<SegSample> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Path image : images) {
            String annotation = stem(image.getName()) + ANNOTATION_SUFFIX;
            if (!annotations.remove(annotation)) {
                missing.add(image.getName());
                continue;
            }
            out.add(new SegSample(image.toString(), new Path(annotationDir, annotation).toString()));
        }
        checkPairs(imageDir, annotationDir, missing, annotations);
        if (out.isEmpty()) {
            throw new PelaException(imageDir + ": no images (expected *.jpg files)");
        }
        return out;
    }

    private List<Path> files(Path dir, String split, String kind) {
        if (!storage.isDirectory(dir)) {
            throw new PelaException(dir + ": directory does not exist (expected the ADE20K layout " + root + "/" + kind
                    + "/" + split + "/, with split " + TRAINING + " or " + VALIDATION + ")");
        }
        List<Path> out = new ArrayList<>();
        for (FileStatus st : storage.list(dir)) {
            String name = st.getPath().getName();
            if (st.isFile() && !name.startsWith(".") && !name.startsWith("_") && hasImageExtension(name)) {
                out.add(st.getPath());
            }
        }
        return out;
    }

    private static void checkPairs(Path imageDir, Path annotationDir, List<String> missing, Set<String> orphans) {
        if (!missing.isEmpty()) {
            throw new PelaException(annotationDir + ": no label map for " + missing.size() + " image(s) of " + imageDir
                    + ", e.g. " + firstFew(missing) + " (expected <image name>.png)");
        }
        if (!orphans.isEmpty()) {
            throw new PelaException(annotationDir + ": " + orphans.size() + " label map(s) without an image in "
                    + imageDir + ", e.g. " + firstFew(new ArrayList<>(orphans)));
        }
    }

    private static String firstFew(List<String> names) {
        List<String> first = names.subList(0, Math.min(MAX_MISSING_NAMED, names.size()));
        return String.join(", ", first) + (names.size() > first.size() ? " …" : "");
    }

    private static boolean hasImageExtension(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /**
     * The sample of an image listed by {@link #list}: its label map lies at
     * {@code root/annotations/<split>/<stem>.png} for {@code root/images/<split>/<name>} — how training batches,
     * which carry only the image's path, find their labels on an executor.
     */
    public static SegSample pairOf(String image) {
        int i = image.lastIndexOf("/images/");
        int slash = image.lastIndexOf('/');
        if (i < 0 || slash <= i + 8) {
            throw new PelaException(image + ": not an ADE20K image path (root/images/<split>/<name>)");
        }
        String split = image.substring(i + 8, slash);
        String stem = stem(image.substring(slash + 1));
        return new SegSample(image, image.substring(0, i) + "/annotations/" + split + "/" + stem + ANNOTATION_SUFFIX);
    }

    // ------------------------------------------------------------------------------------------------ loading

    /** An image (RGB) with its label map, both of the same size. */
    public record Example(SegSample sample, BufferedImage image, LabelMap label) {
    }

    /**
     * Reads and decodes an example.
     *
     * @throws PelaException naming the file: unreadable or corrupt image or label map, a label map of another size
     *     than its image, or a label map that is not an ADE20K one (see {@link #decodeLabels})
     */
    public static Example load(Storage storage, SegSample sample) {
        BufferedImage image;
        try {
            image = ImageDecoder.decode(storage.readAll(Storage.path(sample.image()), BatchLoader.MAX_IMAGE_BYTES));
        } catch (BadImageException e) {
            throw new PelaException(sample.image() + ": " + e.getMessage(), e);
        }
        LabelMap label = readLabels(storage, sample.annotation());
        if (label.width() != image.getWidth() || label.height() != image.getHeight()) {
            throw new PelaException(sample.annotation() + ": label map is " + label.width() + "x" + label.height()
                    + " but its image " + sample.name() + " is " + image.getWidth() + "x" + image.getHeight());
        }
        return new Example(sample, image, label);
    }

    /** Reads and decodes one label map (see {@link #decodeLabels}). */
    public static LabelMap readLabels(Storage storage, String annotation) {
        return decodeLabels(storage.readAll(Storage.path(annotation), BatchLoader.MAX_IMAGE_BYTES), annotation);
    }

    /**
     * The training classes of an ADE20K label map given as PNG bytes, after reduce_zero_label.
     *
     * @throws PelaException naming {@code location}: not a PNG, not a single 8-bit channel (RGB, grey + alpha,
     *     16-bit or 1/2/4-bit grey), or a value above {@value #NUM_CLASSES} other than 255
     */
    public static LabelMap decodeLabels(byte[] png, String location) {
        Raster raster = readPng(png, location).getRaster();
        int w = raster.getWidth();
        int h = raster.getHeight();
        int[] raw = raster.getSamples(0, 0, w, h, 0, new int[w * h]);
        int[] labels = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            labels[i] = reduceZeroLabel(raw[i], location, i % w, i / w);
        }
        return new LabelMap(w, h, labels);
    }

    /** mmseg's reduce_zero_label on one stored value: 0 → 255 (ignored), v → v − 1, 255 stays ignored. */
    static int reduceZeroLabel(int stored, String location, int x, int y) {
        if (stored == 0 || stored == SegHistogram.IGNORE_INDEX) {
            return SegHistogram.IGNORE_INDEX;
        }
        if (stored > NUM_CLASSES) {
            throw new PelaException(location + ": label " + stored + " at pixel (" + x + ", " + y + ") is not an ADE20K"
                    + " class (0 = other, 1.." + NUM_CLASSES + ", or 255 = ignore)");
        }
        return stored - 1;
    }

    private static BufferedImage readPng(byte[] data, String location) {
        BufferedImage img;
        try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            img = readPng(iis, location);
        } catch (IOException | RuntimeException e) {
            if (e instanceof PelaException p) {
                throw p;
            }
            // Decoders signal corrupt data with IIOException but also with runtime exceptions of all kinds.
            throw new PelaException(location + ": corrupt PNG label map: " + e, e);
        }
        checkSingleEightBitChannel(img, location);
        return img;
    }

    private static BufferedImage readPng(ImageInputStream iis, String location) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
        if (!readers.hasNext() || !"png".equalsIgnoreCase(readers.next().getFormatName())) {
            throw new PelaException(location + ": not a PNG file (ADE20K label maps are 8-bit grey PNGs)");
        }
        ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
        try {
            reader.setInput(iis, true, true);
            long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
            if (pixels > ImageDecoder.MAX_PIXELS) {
                throw new PelaException(location + ": label map of " + pixels + " pixels exceeds the limit of "
                        + ImageDecoder.MAX_PIXELS);
            }
            return reader.read(0);
        } finally {
            reader.dispose();
        }
    }

    /**
     * Accepts 8-bit grey and palette images (whose samples are the palette indices, at any depth). Anything else
     * would have to be converted, and any conversion (grey of an RGB, rescaling 16 or 4 bits to 8) changes the
     * class numbers silently.
     */
    private static void checkSingleEightBitChannel(BufferedImage img, String location) {
        Raster r = img.getRaster();
        boolean palette = img.getColorModel() instanceof IndexColorModel;
        int bands = r.getNumBands();
        int bits = r.getSampleModel().getSampleSize(0);
        if (bands != 1) {
            throw new PelaException(location + ": label map has " + bands + " channels ("
                    + (bands == 2 ? "grey + alpha" : bands == 3 ? "RGB" : bands == 4 ? "RGBA" : "?")
                    + "); ADE20K label maps are single-channel 8-bit PNGs holding the class index");
        }
        if (!palette && bits != 8) {
            throw new PelaException(location + ": label map is " + bits + "-bit grey; ADE20K label maps are 8-bit"
                    + " (values 0.." + NUM_CLASSES + ")");
        }
    }
}
