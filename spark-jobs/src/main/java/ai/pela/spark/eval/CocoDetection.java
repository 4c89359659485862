package ai.pela.spark.eval;

import ai.pela.spark.io.Storage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One detection in COCO's results format, {@code {"image_id", "category_id", "bbox": [x, y, w, h], "score"}}.
 * A results file is a JSON array of these.
 */
public record CocoDetection(long imageId, int categoryId, Box bbox, double score) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Reads a results file on any Hadoop path and checks it against the ground truth (see {@link #parse}). */
    public static List<CocoDetection> read(Storage storage, String location, CocoInstances gt) {
        return parse(JsonFields.read(storage, location), location, gt);
    }

    /**
     * Checks and converts a parsed results file. Every detection must name an image and a category of the ground
     * truth. COCO's evaluator refuses unknown images too, but silently drops unknown categories; here they are an
     * error, because they almost always mean a class-index mapping bug (contiguous 0..79 instead of COCO's ids),
     * which would otherwise show up only as a low AP.
     *
     * @throws ai.pela.zoo.PelaException naming {@code source} and the entry ({@code [12].bbox: ...})
     */
    public static List<CocoDetection> parse(JsonNode root, String source, CocoInstances gt) {
        JsonFields f = new JsonFields(source);
        if (!root.isArray()) {
            throw f.error("top level", "expected an array of {image_id, category_id, bbox, score}, got "
                    + JsonFields.kind(root));
        }
        List<CocoDetection> out = new ArrayList<>(root.size());
        for (int i = 0; i < root.size(); i++) {
            String field = "[" + i + "]";
            out.add(parseOne(f, f.object(root.get(i), field), field, gt));
        }
        return out;
    }

    private static CocoDetection parseOne(JsonFields f, JsonNode d, String field, CocoInstances gt) {
        long imageId = f.integer(d, "image_id", field);
        if (!gt.hasImage(imageId)) {
            throw f.error(field + ".image_id", "image " + imageId + " is not in the ground truth " + gt.source());
        }
        long categoryId = f.integer(d, "category_id", field);
        if (categoryId != (int) categoryId || !gt.hasCategory((int) categoryId)) {
            throw f.error(field + ".category_id", "category " + categoryId + " is not in the ground truth's categories ("
                    + gt.source() + ")");
        }
        return new CocoDetection(imageId, (int) categoryId, f.box(d, "bbox", field), f.number(d, "score", field));
    }
}
