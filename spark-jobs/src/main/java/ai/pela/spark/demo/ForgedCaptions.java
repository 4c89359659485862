package ai.pela.spark.demo;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small image-caption set in ALBEF's real formats, made of real Fashion-MNIST items: one or (three times in four)
 * two 24-pixel items per canvas (painted by {@link SceneForge}, as forge-scenes paints them), each scene captioned
 * from where its items really are — "a sneaker to the left of a shirt", "a shirt to the right of a sneaker" (both offered; ALBEF picks one per epoch).
 * <pre>
 * root/images/{train,val}/forged_{split}_NNNNNNNN.jpg
 * root/pretrain.json        [{"image": "images/train/…jpg", "caption": [str, …]}]    ALBEF pre-training list
 * root/retrieval_val.json   [{"image": "images/val/…jpg", "caption": [str, …]}]      ALBEF retrieval val/test
 * </pre>
 * Image paths are relative to root, where the annotation files lie (so no image root needs setting). The same
 * options give the same bytes; a directory already forged with them is reused.
 */
public final class ForgedCaptions {
    private static final Logger LOG = LoggerFactory.getLogger(ForgedCaptions.class);
    public static final String PRETRAIN = "pretrain.json";
    public static final String RETRIEVAL_VAL = "retrieval_val.json";
    /** Fashion-MNIST's classes as a caption names them. */
    public static final List<String> NAMES = List.of("t-shirt", "pair of trousers", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot");
    private static final int MARKER_FORMAT = 2;
    /** Items of 24 pixels: two fit side by side on the default 56-pixel canvas with room to move. */
    private static final int ITEM_SIDE = 24;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to forge: canvases of {@code size} pixels with one or two items (plain: grey items on black). */
    public record Options(long seed, int trainImages, int valImages, int size, boolean plain) {
        public Options {
            if (trainImages < 0 || valImages < 0 || trainImages + valImages == 0) {
                throw new PelaException("forge at least one image (train " + trainImages + ", val " + valImages + ")");
            }
            if (size < 28) {
                throw new PelaException("canvas of " + size + " pixels is smaller than a Fashion-MNIST item (28)");
            }
        }
    }

    public record Summary(Path root, int trainImages, int valImages, int pairs, boolean reused) {
        public Path pretrainJson() {
            return root.resolve(PRETRAIN);
        }

        public Path retrievalVal() {
            return root.resolve(RETRIEVAL_VAL);
        }
    }

    private ForgedCaptions() {
    }

    /** From the Fashion-MNIST IDX files in {@code idxDir} (as {@link FashionMnistExport#locateOrFetch} finds them). */
    public static Summary write(Path idxDir, Path outRoot, Options options) {
        List<String> missing = FashionMnistExport.missingFiles(idxDir);
        if (!missing.isEmpty()) {
            throw new PelaException(FashionMnistExport.describeMissing(idxDir, missing));
        }
        FashionMnistExport.Split val = FashionMnistExport.Split.read("val",
                idxDir.resolve(FashionMnistExport.VAL_IMAGES), idxDir.resolve(FashionMnistExport.VAL_LABELS), 0);
        FashionMnistExport.Split train = options.trainImages() == 0 ? val : FashionMnistExport.Split.read("train",
                idxDir.resolve(FashionMnistExport.TRAIN_IMAGES), idxDir.resolve(FashionMnistExport.TRAIN_LABELS), 0);
        return write(train, val, outRoot, options);
    }

    static Summary write(FashionMnistExport.Split trainItems, FashionMnistExport.Split valItems, Path outRoot,
            Options o) {
        Path root = outRoot.toAbsolutePath().normalize();
        ObjectNode marker = JSON.createObjectNode().put("format", MARKER_FORMAT).put("kind", "captions")
                .put("seed", o.seed()).put("train", o.trainImages()).put("val", o.valImages()).put("size", o.size())
                .put("plain", o.plain());
        JsonNode previous = readMarker(root);
        if (previous != null && previous.toString().equals(marker.toString())) {
            LOG.info("forged captions already in {}; nothing to do", root);
            return new Summary(root, o.trainImages(), o.valImages(), o.trainImages() + o.valImages(), true);
        }
        refuseForeignDirectory(root);
        Path tmp = root.resolveSibling(root.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve(PRETRAIN).toFile(),
                    writeSplit(tmp, "train", 0, o.trainImages(), trainItems, o));
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve(RETRIEVAL_VAL).toFile(),
                    writeSplit(tmp, "val", 1, o.valImages(), valItems, o));
            JSON.writeValue(tmp.resolve(ForgedScenes.MARKER).toFile(), marker);
            FashionMnistExport.publish(tmp, root);
            LOG.info("forged {} + {} captioned images into {}", o.trainImages(), o.valImages(), root);
            return new Summary(root, o.trainImages(), o.valImages(), o.trainImages() + o.valImages(), false);
        } catch (IOException | UncheckedIOException e) {
            throw new PelaException(root + ": cannot write the forged captions: " + e.getMessage(), e);
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    /** Forges a split's images (each from its own random stream, so drawing in parallel changes no byte). */
    private static ArrayNode writeSplit(Path tmp, String split, int number, int count, FashionMnistExport.Split items,
            Options o) throws IOException {
        Path dir = tmp.resolve("images").resolve(split);
        Files.createDirectories(dir);
        List<String>[] captions = new List[count];
        IntStream.range(0, count).parallel().forEach(i -> {
            SplittableRandom rng = new SplittableRandom(ForgedScenes.sceneSeed(o.seed(), number, i));
            SceneForge.Scene scene = SceneForge.forgeAt(items, o.size(), squares(o.size(), rng), o.plain(), rng);
            captions[i] = captions(scene.objects());
            try {
                Files.write(dir.resolve(fileName(split, i)), ForgedScenes.encodeJpeg(scene.image()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        ArrayNode entries = JSON.createArrayNode();
        for (int i = 0; i < count; i++) {
            ObjectNode e = entries.addObject().put("image", "images/" + split + "/" + fileName(split, i));
            captions[i].forEach(e.putArray("caption")::add);
        }
        return entries;
    }

    /**
     * Where the items go: three scenes in four have two, one in each half of the canvas (left and right, or top and
     * bottom), placed at random within it, so they never overlap and their relation is plain to see.
     */
    static List<int[]> squares(int size, SplittableRandom rng) {
        int side = Math.min(ITEM_SIDE, size / 2);
        if (rng.nextInt(4) == 0) {
            return List.of(new int[] {rng.nextInt(size - side + 1), rng.nextInt(size - side + 1), side});
        }
        int half = size / 2;
        int[] near = {rng.nextInt(half - side + 1), rng.nextInt(size - side + 1)};
        int[] far = {half + rng.nextInt(size - half - side + 1), rng.nextInt(size - side + 1)};
        boolean across = rng.nextBoolean();
        boolean nearFirst = rng.nextBoolean();
        int[] a = nearFirst ? near : far;
        int[] b = nearFirst ? far : near;
        return across ? List.of(new int[] {a[0], a[1], side}, new int[] {b[0], b[1], side})
                : List.of(new int[] {a[1], a[0], side}, new int[] {b[1], b[0], side});
    }

    private static String fileName(String split, int index) {
        return String.format(Locale.ROOT, "forged_%s_%08d.jpg", split, index + 1);
    }

    /**
     * What a scene shows, in words: its item, or its two items and where the first is relative to the second
     * (left/right when their centres differ more across than down, above/below otherwise), said both ways round.
     */
    static List<String> captions(List<SceneForge.Placed> objects) {
        if (objects.isEmpty()) {
            return List.of("an empty background");
        }
        String a = withArticle(objects.get(0).fashionClass());
        if (objects.size() == 1) {
            return List.of(a, "a photo of " + a);
        }
        SceneForge.Placed p = objects.get(0);
        SceneForge.Placed q = objects.get(1);
        String b = withArticle(q.fashionClass());
        double dx = (q.x() + q.w() / 2.0) - (p.x() + p.w() / 2.0);
        double dy = (q.y() + q.h() / 2.0) - (p.y() + p.h() / 2.0);
        if (Math.abs(dx) >= Math.abs(dy)) {
            String pSide = dx > 0 ? "left" : "right";
            String qSide = dx > 0 ? "right" : "left";
            return List.of(a + " to the " + pSide + " of " + b, b + " to the " + qSide + " of " + a);
        }
        String pRel = dy > 0 ? "above" : "below";
        String qRel = dy > 0 ? "below" : "above";
        return List.of(a + " " + pRel + " " + b, b + " " + qRel + " " + a);
    }

    private static String withArticle(int fashionClass) {
        String name = NAMES.get(fashionClass);
        return ("aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
    }

    private static JsonNode readMarker(Path root) {
        Path file = root.resolve(ForgedScenes.MARKER);
        try {
            return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : null;
        } catch (IOException e) {
            return null; // unreadable: forge again
        }
    }

    /** Replacing a directory is safe only when it is empty or forged here (it has a marker). */
    private static void refuseForeignDirectory(Path root) {
        if (!Files.exists(root) || Files.isRegularFile(root.resolve(ForgedScenes.MARKER))) {
            return;
        }
        try (var entries = Files.list(root)) {
            if (entries.findAny().isPresent()) {
                throw new PelaException(root + ": non-empty directory without a " + ForgedScenes.MARKER
                        + " marker, so not forged by this program; remove it or choose another directory");
            }
        } catch (IOException e) {
            throw new PelaException(root + ": cannot list directory: " + e.getMessage(), e);
        }
    }
}
