package ai.pela.spark.eval;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ground truth of a COCO detection set, read from an {@code instances_*.json} file: {@code images[{id,
 * file_name, width, height}]}, {@code annotations[{id, image_id, category_id, bbox: [x, y, w, h], area, iscrowd}]}
 * and {@code categories[{id, name, supercategory}]}. Segmentations are not read (box evaluation does not use them).
 *
 * <p>Everything is checked when read, and every error names the file and the field: missing sections, ids that
 * are not integers or occur twice, boxes that are not four numbers or have a negative size, annotations of an
 * unknown image or category. Annotation ids must be positive: COCO's evaluator marks "not matched" with id 0,
 * so a ground truth with id 0 would silently turn its true positives into false ones.
 */
public final class CocoInstances implements Serializable {
    private static final long serialVersionUID = 1L;

    public record Image(long id, String fileName, int width, int height) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    /** {@code area} is the object's area as the file gives it (its mask's area in COCO), not the box's. */
    public record Annotation(long id, long imageId, int categoryId, Box bbox, double area, boolean crowd)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public record Category(int id, String name, String supercategory) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private final String source;
    private final Map<Long, Image> images;
    private final Map<Integer, Category> categories;
    private final List<Annotation> annotations;
    private final Map<Long, List<Annotation>> byImage;

    private CocoInstances(String source, Map<Long, Image> images, Map<Integer, Category> categories,
            List<Annotation> annotations) {
        this.source = source;
        this.images = images;
        this.categories = categories;
        this.annotations = annotations;
        this.byImage = new HashMap<>();
        for (Annotation a : annotations) {
            byImage.computeIfAbsent(a.imageId(), k -> new ArrayList<>()).add(a);
        }
    }

    /** Reads and checks an instances file on any Hadoop path. */
    public static CocoInstances read(Storage storage, String location) {
        return parse(JsonFields.read(storage, location), location);
    }

    /** Checks and converts an already parsed instances file; {@code source} names it in errors. */
    public static CocoInstances parse(JsonNode root, String source) {
        JsonFields f = new JsonFields(source);
        f.object(root, "top level");
        Map<Integer, Category> categories = readCategories(f, f.array(root, "categories", "categories"));
        Map<Long, Image> images = readImages(f, f.array(root, "images", "images"));
        List<Annotation> annotations = readAnnotations(f, f.array(root, "annotations", "annotations"), images,
                categories);
        return new CocoInstances(source, images, categories, annotations);
    }

    private static Map<Integer, Category> readCategories(JsonFields f, JsonNode array) {
        Map<Integer, Category> out = new LinkedHashMap<>();
        for (int i = 0; i < array.size(); i++) {
            String field = "categories[" + i + "]";
            JsonNode c = f.object(array.get(i), field);
            int id = (int) f.integer(c, "id", field, Integer.MIN_VALUE, Integer.MAX_VALUE);
            String supercategory = c.hasNonNull("supercategory") ? f.text(c, "supercategory", field) : "";
            if (out.put(id, new Category(id, f.text(c, "name", field), supercategory)) != null) {
                throw f.error(field + ".id", "category id " + id + " occurs twice");
            }
        }
        if (out.isEmpty()) {
            throw f.error("categories", "empty; the evaluation needs the list of categories");
        }
        return out;
    }

    private static Map<Long, Image> readImages(JsonFields f, JsonNode array) {
        Map<Long, Image> out = new LinkedHashMap<>();
        for (int i = 0; i < array.size(); i++) {
            String field = "images[" + i + "]";
            JsonNode img = f.object(array.get(i), field);
            long id = f.integer(img, "id", field);
            int width = (int) f.integer(img, "width", field, 1, Integer.MAX_VALUE);
            int height = (int) f.integer(img, "height", field, 1, Integer.MAX_VALUE);
            if (out.put(id, new Image(id, f.text(img, "file_name", field), width, height)) != null) {
                throw f.error(field + ".id", "image id " + id + " occurs twice");
            }
        }
        return out;
    }

    private static List<Annotation> readAnnotations(JsonFields f, JsonNode array, Map<Long, Image> images,
            Map<Integer, Category> categories) {
        List<Annotation> out = new ArrayList<>(array.size());
        Map<Long, Integer> seen = new HashMap<>();
        for (int i = 0; i < array.size(); i++) {
            String field = "annotations[" + i + "]";
            Annotation a = readAnnotation(f, f.object(array.get(i), field), field, images, categories);
            Integer first = seen.put(a.id(), i);
            if (first != null) {
                throw f.error(field + ".id", "annotation id " + a.id() + " occurs twice (also annotations[" + first + "])");
            }
            out.add(a);
        }
        return out;
    }

    private static Annotation readAnnotation(JsonFields f, JsonNode a, String field, Map<Long, Image> images,
            Map<Integer, Category> categories) {
        long id = f.integer(a, "id", field, 1, Long.MAX_VALUE);
        long imageId = f.integer(a, "image_id", field);
        if (!images.containsKey(imageId)) {
            throw f.error(field + ".image_id", "image " + imageId + " is not in images");
        }
        long categoryId = f.integer(a, "category_id", field);
        if (categoryId != (int) categoryId || !categories.containsKey((int) categoryId)) {
            throw f.error(field + ".category_id", "category " + categoryId + " is not in categories");
        }
        Box box = f.box(a, "bbox", field);
        double area = f.number(a, "area", field);
        if (area < 0) {
            throw f.error(field + ".area", "negative area " + area);
        }
        boolean crowd = a.hasNonNull("iscrowd") && f.integer(a, "iscrowd", field, 0, 1) == 1;
        return new Annotation(id, imageId, (int) categoryId, box, area, crowd);
    }

    /** Where this was read from, for messages. */
    public String source() {
        return source;
    }

    /** The images in file order. */
    public List<Image> images() {
        return List.copyOf(images.values());
    }

    public boolean hasImage(long id) {
        return images.containsKey(id);
    }

    public Image image(long id) {
        Image img = images.get(id);
        if (img == null) {
            throw new PelaException(source + ": no image with id " + id);
        }
        return img;
    }

    /** Image ids in ascending order, the order in which COCO's evaluator goes through them. */
    public long[] imageIds() {
        return images.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** The categories in file order. */
    public List<Category> categories() {
        return List.copyOf(categories.values());
    }

    public boolean hasCategory(int id) {
        return categories.containsKey(id);
    }

    /** Category ids in ascending order, the order of COCO's per-category results. */
    public int[] categoryIds() {
        return categories.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /** All annotations in file order. */
    public List<Annotation> annotations() {
        return Collections.unmodifiableList(annotations);
    }

    /** The annotations of one image, in file order (empty for an image without objects). */
    public List<Annotation> annotationsOf(long imageId) {
        return Collections.unmodifiableList(byImage.getOrDefault(imageId, List.of()));
    }
}
