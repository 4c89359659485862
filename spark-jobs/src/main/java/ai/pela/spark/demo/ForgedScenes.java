package ai.pela.spark.demo;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.IntStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forged scene-parsing and detection data, for tests and the demo: no ADE20K or COCO data can be downloaded here,
 * so scenes are made of real Fashion-MNIST items (see {@link SceneForge}) and written in the real on-disk formats,
 * read back by the real loaders:
 *
 * <pre>
 * root/ADEChallengeData2016/images/{training,validation}/forged_{train,val}_00000001.jpg   RGB JPEG
 * root/ADEChallengeData2016/annotations/{training,validation}/forged_..._00000001.png      8-bit grey label map
 * root/coco/{train,val}/forged_..._00000001.jpg                                           the same images
 * root/coco/annotations/instances_{train,val}.json                                        boxes, areas, RLE masks
 * </pre>
 *
 * In the label maps, 0 is background (ADE20K's "other", ignored after reduce_zero_label) and item class c (0..9)
 * is c + 1, inside ADE20K's 150-class label space; COCO category ids are the same c + 1. Training scenes draw on
 * Fashion-MNIST's training items, validation scenes on its test items. Everything follows from the seed: each
 * scene has its own random stream, so the output is the same byte for byte however many threads draw it.
 *
 * <p>Written into a temporary sibling and renamed into place when complete, with a {@value #MARKER} file recording
 * the options; asking again for the same options reuses the data.
 */
public final class ForgedScenes {
    private static final Logger LOG = LoggerFactory.getLogger(ForgedScenes.class);

    public static final String ADE_DIR = "ADEChallengeData2016";
    public static final String COCO_DIR = "coco";
    public static final String MARKER = ".complete";
    public static final List<String> CATEGORY_NAMES = List.of("t-shirt/top", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot");
    private static final int MARKER_FORMAT = 1;
    private static final float JPEG_QUALITY = 0.92f;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to forge: scene counts per split, canvas side in pixels, at most how many items per scene, and whether
     * the scenes are plain — grey items on black, Fashion-MNIST's own look (the domain the demo's ViT was trained
     * in), instead of tinted items on coloured gradients.
     */
    public record Options(long seed, int trainImages, int valImages, int size, int maxItems, boolean plain) {
        /** Tinted scenes. */
        public Options(long seed, int trainImages, int valImages, int size, int maxItems) {
            this(seed, trainImages, valImages, size, maxItems, false);
        }

        public Options {
            if (trainImages < 0 || valImages < 0 || trainImages + valImages == 0) {
                throw new PelaException("forged scenes: image counts must be >= 0 and not both 0, got train="
                        + trainImages + " val=" + valImages);
            }
            if (size < 28 || size > 1024) {
                throw new PelaException("forged scenes: canvas size must be between 28 and 1024 pixels, got " + size);
            }
            if (maxItems < 1 || maxItems > 16) {
                throw new PelaException("forged scenes: items per scene must be between 1 and 16, got " + maxItems);
            }
        }

        /** 128-pixel scenes of 1 to 4 items. */
        public static Options of(long seed, int trainImages, int valImages) {
            return new Options(seed, trainImages, valImages, 128, 4);
        }
    }

    /** What was written; objects counted by COCO's area ranges (small &lt; 32², medium &lt; 96², large). */
    public record Summary(Path root, int trainImages, int valImages, int objects, int small, int medium, int large,
            boolean reused) {
        public Path ade20k() {
            return root.resolve(ADE_DIR);
        }

        public Path cocoInstances(String split) {
            return root.resolve(COCO_DIR).resolve("annotations").resolve("instances_" + split + ".json");
        }
    }

    private ForgedScenes() {
    }

    /**
     * Forges scenes from the Fashion-MNIST IDX files in {@code idxDir} (as {@link FashionMnistExport#locateOrFetch}
     * finds them) into {@code outRoot}.
     *
     * @throws PelaException for missing or malformed IDX files, or when {@code outRoot} is a non-empty directory
     *     that this class did not write
     */
    public static Summary write(Path idxDir, Path outRoot, Options options) {
        List<String> missing = FashionMnistExport.missingFiles(idxDir);
        if (!missing.isEmpty()) {
            throw new PelaException(FashionMnistExport.describeMissing(idxDir, missing));
        }
        FashionMnistExport.Split val = FashionMnistExport.Split.read("val",
                idxDir.resolve(FashionMnistExport.VAL_IMAGES), idxDir.resolve(FashionMnistExport.VAL_LABELS), 0);
        // The 60,000 training items take seconds to read; an evaluation-only set (no training scenes) skips them.
        FashionMnistExport.Split train = options.trainImages() == 0 ? val : FashionMnistExport.Split.read("train",
                idxDir.resolve(FashionMnistExport.TRAIN_IMAGES), idxDir.resolve(FashionMnistExport.TRAIN_LABELS), 0);
        return write(train, val, outRoot, options);
    }

    /** {@link #write(Path, Path, Options)} from items already read (tests use a small cut of Fashion-MNIST). */
    static Summary write(FashionMnistExport.Split trainItems, FashionMnistExport.Split valItems, Path outRoot,
            Options options) {
        Path root = outRoot.toAbsolutePath().normalize();
        ObjectNode marker = marker(options);
        Summary previous = previous(root, marker);
        if (previous != null) {
            LOG.info("forged scenes already in {}; nothing to do", root);
            return previous;
        }
        refuseForeignDirectory(root);
        Path tmp = root.resolveSibling(root.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Counts counts = new Counts();
            writeSplit(tmp, new SplitSpec("train", "training", 0, options.trainImages()), trainItems, options, counts);
            writeSplit(tmp, new SplitSpec("val", "validation", 1, options.valImages()), valItems, options, counts);
            counts.into(marker);
            JSON.writeValue(tmp.resolve(MARKER).toFile(), marker);
            FashionMnistExport.publish(tmp, root);
            LOG.info("forged {} + {} scenes with {} objects into {}", options.trainImages(), options.valImages(),
                    counts.objects, root);
            return summary(root, marker, false);
        } catch (IOException | UncheckedIOException e) {
            throw new PelaException(root + ": cannot write the forged scenes: " + e.getMessage(), e);
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    /** A split's names: COCO-style ("val"), ADE20K-style ("validation"), its number in the seed, its size. */
    private record SplitSpec(String coco, String ade, int number, int count) {
        String fileName(int index) {
            return String.format(Locale.ROOT, "forged_%s_%08d", coco, index + 1);
        }
    }

    /** Objects per COCO area range, over both splits. */
    private static final class Counts {
        int objects;
        int small;
        int medium;
        int large;

        void add(int area) {
            objects++;
            if (area < 32 * 32) {
                small++;
            } else if (area < 96 * 96) {
                medium++;
            } else {
                large++;
            }
        }

        void into(ObjectNode marker) {
            marker.put("objects", objects).put("small", small).put("medium", medium).put("large", large);
        }
    }

    private static void writeSplit(Path tmp, SplitSpec spec, FashionMnistExport.Split items, Options o, Counts counts)
            throws IOException {
        Path ade = tmp.resolve(ADE_DIR);
        Files.createDirectories(ade.resolve("images").resolve(spec.ade()));
        Files.createDirectories(ade.resolve("annotations").resolve(spec.ade()));
        Files.createDirectories(tmp.resolve(COCO_DIR).resolve(spec.coco()));
        Files.createDirectories(tmp.resolve(COCO_DIR).resolve("annotations"));
        // Each scene has its own random stream, so the parallel drawing order does not change any byte.
        SceneForge.Scene[] scenes = new SceneForge.Scene[spec.count()];
        IntStream.range(0, spec.count()).parallel().forEach(i -> {
            SplittableRandom rng = new SplittableRandom(sceneSeed(o.seed(), spec.number(), i));
            scenes[i] = SceneForge.forge(items, o.size(), o.maxItems(), o.plain(), rng);
            writeScene(tmp, spec, i, scenes[i], o.size());
        });
        ObjectNode instances = instances(spec, scenes, o);
        for (SceneForge.Scene s : scenes) {
            s.objects().forEach(p -> counts.add(p.area()));
        }
        JSON.writeValue(tmp.resolve(COCO_DIR).resolve("annotations").resolve("instances_" + spec.coco() + ".json")
                .toFile(), instances);
    }

    /** SplitMix64's finaliser over seed, split and index: independent streams for neighbouring scenes. */
    static long sceneSeed(long seed, int split, int index) {
        long z = seed + 0x9E3779B97F4A7C15L * (2L * index + split + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void writeScene(Path tmp, SplitSpec spec, int index, SceneForge.Scene scene, int size) {
        String name = spec.fileName(index);
        try {
            byte[] jpeg = encodeJpeg(scene.image());
            Files.write(tmp.resolve(ADE_DIR).resolve("images").resolve(spec.ade()).resolve(name + ".jpg"), jpeg);
            Files.write(tmp.resolve(COCO_DIR).resolve(spec.coco()).resolve(name + ".jpg"), jpeg);
            Files.write(tmp.resolve(ADE_DIR).resolve("annotations").resolve(spec.ade()).resolve(name + ".png"),
                    FashionMnistExport.encodePng(labelImage(scene.label(), size)));
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(name + ": " + e.getMessage(), e));
        }
    }

    private static BufferedImage labelImage(byte[] label, int size) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        byte[] pixels = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(label, 0, pixels, 0, label.length);
        return img;
    }

    static byte[] encodeJpeg(BufferedImage img) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(JPEG_QUALITY);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(8192);
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    // ------------------------------------------------------------------------------------------------ COCO JSON

    private static ObjectNode instances(SplitSpec spec, SceneForge.Scene[] scenes, Options o) {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("info").put("description", "forged scenes of Fashion-MNIST items (pela-spark ForgedScenes)")
                .put("seed", o.seed());
        root.putArray("licenses");
        ArrayNode images = root.putArray("images");
        ArrayNode annotations = root.putArray("annotations");
        long annotationId = 1;
        for (int i = 0; i < scenes.length; i++) {
            images.addObject().put("id", i + 1).put("file_name", spec.fileName(i) + ".jpg")
                    .put("width", o.size()).put("height", o.size());
            for (SceneForge.Placed p : scenes[i].objects()) {
                annotation(annotations.addObject(), annotationId++, i + 1, p, o.size());
            }
        }
        ArrayNode categories = root.putArray("categories");
        for (int c = 0; c < CATEGORY_NAMES.size(); c++) {
            categories.addObject().put("id", c + 1).put("name", CATEGORY_NAMES.get(c)).put("supercategory", "fashion");
        }
        return root;
    }

    private static void annotation(ObjectNode a, long id, int imageId, SceneForge.Placed p, int size) {
        a.put("id", id).put("image_id", imageId).put("category_id", p.fashionClass() + 1);
        a.putArray("bbox").add(p.x()).add(p.y()).add(p.w()).add(p.h());
        a.put("area", p.area()).put("iscrowd", 0);
        ObjectNode rle = a.putObject("segmentation");
        ArrayNode counts = rle.putArray("counts");
        for (int run : rle(p.mask(), size)) {
            counts.add(run);
        }
        rle.putArray("size").add(size).add(size);
    }

    /**
     * COCO's uncompressed RLE of a row-major mask: run lengths in column-major order, alternating background and
     * object and starting with background (a leading 0 when the first pixel is the object's).
     */
    static int[] rle(boolean[] mask, int size) {
        IntStream.Builder runs = IntStream.builder();
        boolean current = false;
        int run = 0;
        for (int x = 0; x < size; x++) {
            for (int y = 0; y < size; y++) {
                if (mask[y * size + x] != current) {
                    runs.add(run);
                    run = 0;
                    current = !current;
                }
                run++;
            }
        }
        runs.add(run);
        return runs.build().toArray();
    }

    // ------------------------------------------------------------------------------------------ marker and reuse

    private static ObjectNode marker(Options o) {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", MARKER_FORMAT).put("seed", o.seed()).put("train", o.trainImages()).put("val", o.valImages())
                .put("size", o.size()).put("max_items", o.maxItems());
        if (o.plain()) {
            m.put("plain", true); // absent for tinted scenes, so markers written before the option still match
        }
        return m;
    }

    private static Summary previous(Path root, ObjectNode wanted) {
        Path file = root.resolve(MARKER);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode m = JSON.readTree(file.toFile());
            for (String key : List.of("format", "seed", "train", "val", "size", "max_items")) {
                if (!m.path(key).asText().equals(wanted.get(key).asText())) {
                    return null;
                }
            }
            if (m.path("plain").asBoolean(false) != wanted.path("plain").asBoolean(false)) {
                return null;
            }
            return summary(root, (ObjectNode) m, true);
        } catch (IOException | ClassCastException e) {
            LOG.warn("{}: unreadable marker ({}); forging again", file, e.getMessage());
            return null;
        }
    }

    private static Summary summary(Path root, ObjectNode m, boolean reused) {
        return new Summary(root, m.path("train").asInt(), m.path("val").asInt(), m.path("objects").asInt(),
                m.path("small").asInt(), m.path("medium").asInt(), m.path("large").asInt(), reused);
    }

    /** Replacing a directory is safe only when it is empty or forged here (it has a marker). */
    private static void refuseForeignDirectory(Path root) {
        if (!Files.exists(root) || Files.isRegularFile(root.resolve(MARKER))) {
            return;
        }
        try (var entries = Files.list(root)) {
            if (entries.findAny().isPresent()) {
                throw new PelaException(root + ": non-empty directory without a " + MARKER
                        + " marker, so not forged scenes of this program; remove it or choose another directory");
            }
        } catch (IOException e) {
            throw new PelaException(root + ": cannot list directory: " + e.getMessage(), e);
        }
    }
}
