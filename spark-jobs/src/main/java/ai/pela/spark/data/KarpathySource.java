package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.Path;

/**
 * Karpathy's split files ({@code dataset_coco.json}, {@code dataset_flickr30k.json}):
 * {@code {"images": [{"filepath", "filename", "split", "sentences": [{"raw", …}, …], "cocoid" | "imgid", …}]}},
 * an image at {@code <imageRoot>/<filepath>/<filename>} ({@code filepath} is absent from the Flickr30k file).
 * Splits: "train" is Karpathy's train plus restval (113,287 COCO images, as ALBEF trains on), "val" and "test"
 * (5,000 each for COCO).
 *
 * <p>Training gives a sample per sentence, as ALBEF's coco_train.json has an entry per caption, its label the
 * index of its image among the split's images; val and test give a {@link RetrievalEvalSet}.
 */
public final class KarpathySource {
    private static final Set<String> SPLITS = Set.of("train", "restval", "val", "test");

    private final Storage storage;
    private final Path file;
    private final String imageRoot;
    private final long maxBytes;

    public KarpathySource(Storage storage, String file, String imageRoot) {
        this(storage, file, imageRoot, AnnotationJson.DEFAULT_MAX_BYTES);
    }

    public KarpathySource(Storage storage, String file, String imageRoot, long maxBytes) {
        this.storage = storage;
        this.file = Storage.path(file);
        this.imageRoot = imageRoot;
        this.maxBytes = maxBytes;
    }

    /** One sample per sentence of the train and restval images. */
    public List<Sample> train() {
        List<Sample> samples = new ArrayList<>();
        List<Sample> images = images("train");
        for (Sample image : images) {
            Sample.Captions c = image.captions();
            for (String sentence : c.texts()) {
                samples.add(Sample.captioned(image.uri(), image.label(),
                        new Sample.Captions(List.of(sentence), c.annotations(), c.entry(), samples.size())));
            }
        }
        return samples;
    }

    /** The images of "val" or "test" with their sentences. */
    public RetrievalEvalSet eval(String split) {
        String s = split.strip().toLowerCase(Locale.ROOT);
        if (!s.equals("val") && !s.equals("test")) {
            throw new PelaException(file + ": evaluation split must be val or test, got '" + split + "'");
        }
        return RetrievalEvalSet.of(images(s));
    }

    /**
     * The images of a split ("train" meaning train + restval), in file order, each with all its sentences; the
     * label is the image's index in this list.
     */
    public List<Sample> images(String split) {
        if (!split.equals("train") && !split.equals("val") && !split.equals("test")) {
            throw new PelaException(file + ": split must be train, val or test, got '" + split + "'");
        }
        List<Sample> images = new ArrayList<>();
        AnnotationJson.forEachEntry(storage, file, maxBytes, "images", (i, entry) -> {
            String own = split(entry, i);
            if (own.equals(split) || (split.equals("train") && own.equals("restval"))) {
                images.add(Sample.captioned(path(entry, i), images.size(),
                        new Sample.Captions(sentences(entry, i), file.toString(), i, images.size())));
            }
        });
        if (images.isEmpty()) {
            throw new PelaException(file + ": no images in split '" + split + "'");
        }
        return images;
    }

    private String split(JsonNode entry, int i) {
        String s = AnnotationJson.string(entry, "split", file, i);
        if (!SPLITS.contains(s)) {
            throw new PelaException(file + ": entry " + i + ": \"split\" is '" + s
                    + "', not one of train, restval, val, test");
        }
        return s;
    }

    private String path(JsonNode entry, int i) {
        String name = AnnotationJson.string(entry, "filename", file, i);
        JsonNode dir = entry.get("filepath");
        if (dir != null && !dir.isNull() && !dir.isTextual()) {
            throw new PelaException(file + ": entry " + i + ": \"filepath\" is " + AnnotationJson.kind(dir)
                    + ", not a string");
        }
        String relative = dir == null || dir.isNull() || dir.asText().isEmpty() ? name : dir.asText() + "/" + name;
        return AnnotationJson.resolve(relative, imageRoot, file);
    }

    private List<String> sentences(JsonNode entry, int i) {
        JsonNode list = entry.get("sentences");
        if (list == null || !list.isArray() || list.isEmpty()) {
            throw new PelaException(file + ": entry " + i + ": \"sentences\" is "
                    + (list == null ? "missing" : list.isArray() ? "an empty list" : AnnotationJson.kind(list))
                    + ", not a non-empty list of {\"raw\": …}");
        }
        List<String> out = new ArrayList<>(list.size());
        for (int k = 0; k < list.size(); k++) {
            JsonNode raw = list.get(k).get("raw");
            if (raw == null || !raw.isTextual()) {
                throw new PelaException(file + ": entry " + i + ": sentences[" + k + "] has no \"raw\" string");
            }
            out.add(raw.asText());
        }
        return out;
    }
}
