package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * ALBEF's retrieval annotation files (coco_*.json, flickr30k_*.json), images under one root:
 * <ul>
 *   <li>train ({@code re_train_dataset}): a list of {@code {"image", "caption": str, "image_id"}}, one entry per
 *       caption; a sample per entry whose label is the index of its {@code image_id} in order of first appearance,
 *       as ALBEF's {@code img_ids} (two captions of one image share it: the ITC loss treats them as positives);</li>
 *   <li>val/test ({@code re_eval_dataset}): a list of {@code {"image", "caption": [str, …]}}, one entry per image,
 *       turned into a {@link RetrievalEvalSet}.</li>
 * </ul>
 * Images are read on the executors, under the {@link BadImagePolicy} (see {@link PretrainJsonSource}).
 */
public final class RetrievalJsonSource {
    private final Storage storage;
    private final String imageRoot;
    private final long maxBytes;

    /** {@code imageRoot}: where relative image paths lie (null or blank: beside the annotation file). */
    public RetrievalJsonSource(Storage storage, String imageRoot) {
        this(storage, imageRoot, AnnotationJson.DEFAULT_MAX_BYTES);
    }

    public RetrievalJsonSource(Storage storage, String imageRoot, long maxBytes) {
        this.storage = storage;
        this.imageRoot = imageRoot;
        this.maxBytes = maxBytes;
    }

    /** The training entries of the files in order (ALBEF concatenates its train_file list). */
    public List<Sample> train(List<String> files) {
        List<Sample> samples = new ArrayList<>();
        Map<String, Integer> imageIds = new HashMap<>();
        for (String f : files) {
            Path file = Storage.path(f);
            AnnotationJson.forEachEntry(storage, file, maxBytes, (i, entry) -> {
                String image = AnnotationJson.resolve(AnnotationJson.string(entry, "image", file, i), imageRoot, file);
                List<String> captions = AnnotationJson.captions(entry, "caption", file, i);
                int label = imageIds.computeIfAbsent(imageId(entry, file, i), k -> imageIds.size());
                samples.add(Sample.captioned(image, label,
                        new Sample.Captions(captions, file.toString(), i, samples.size())));
            });
        }
        if (samples.isEmpty()) {
            throw new PelaException(String.join(", ", files) + ": no entries");
        }
        return samples;
    }

    /** A val/test file: its images, texts and the maps between them. */
    public RetrievalEvalSet eval(String f) {
        Path file = Storage.path(f);
        List<Sample> images = new ArrayList<>();
        AnnotationJson.forEachEntry(storage, file, maxBytes, (i, entry) -> {
            String image = AnnotationJson.resolve(AnnotationJson.string(entry, "image", file, i), imageRoot, file);
            List<String> captions = AnnotationJson.captions(entry, "caption", file, i);
            images.add(Sample.captioned(image, images.size(),
                    new Sample.Captions(captions, file.toString(), i, images.size())));
        });
        if (images.isEmpty()) {
            throw new PelaException(file + ": no entries");
        }
        return RetrievalEvalSet.of(images);
    }

    /** COCO's ids are strings ("coco_391895"), Flickr30k's numbers; "7" and 7 name the same image. */
    private static String imageId(JsonNode entry, Path file, int i) {
        JsonNode v = entry.get("image_id");
        if (v == null || v.isNull()) {
            throw new PelaException(file + ": entry " + i + " has no \"image_id\"");
        }
        if (!(v.isTextual() || v.isIntegralNumber())) {
            throw new PelaException(file + ": entry " + i + ": \"image_id\" is " + AnnotationJson.kind(v)
                    + ", not a string or an integer");
        }
        return v.asText();
    }
}
