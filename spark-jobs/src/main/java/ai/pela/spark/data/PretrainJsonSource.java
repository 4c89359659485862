package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * ALBEF's pre-training annotation files ({@code pretrain_dataset}): each a JSON list of
 * {@code {"image": path, "caption": str | [str, …]}}, several files concatenated in the given order. A sample per
 * entry; an entry with a list of captions gets one of them per epoch ({@link CaptionChoice}).
 *
 * <p>The images are not opened here: on a listing of millions of paths the driver would spend longer stat-ing
 * files than the executors spend reading them. A listed image that is missing or corrupt is found by the executor
 * that loads it and handled by the {@link BadImagePolicy}, its message naming the file, the entry and the image.
 */
public final class PretrainJsonSource {
    private final Storage storage;
    private final List<String> files;
    private final String imageRoot;
    private final long maxBytes;

    /** {@code imageRoot}: where relative image paths lie (null or blank: beside each annotation file). */
    public PretrainJsonSource(Storage storage, List<String> files, String imageRoot) {
        this(storage, files, imageRoot, AnnotationJson.DEFAULT_MAX_BYTES);
    }

    public PretrainJsonSource(Storage storage, List<String> files, String imageRoot, long maxBytes) {
        if (files.isEmpty()) {
            throw new PelaException("no pre-training annotation file given");
        }
        this.storage = storage;
        this.files = List.copyOf(files);
        this.imageRoot = imageRoot;
        this.maxBytes = maxBytes;
    }

    /** Every entry of every file in order; a sample's label is the index of its image among distinct images. */
    public List<Sample> list() {
        List<Sample> samples = new ArrayList<>();
        Map<String, Integer> imageIds = new HashMap<>();
        for (String f : files) {
            Path file = Storage.path(f);
            AnnotationJson.forEachEntry(storage, file, maxBytes, (i, entry) -> {
                String image = AnnotationJson.resolve(AnnotationJson.string(entry, "image", file, i), imageRoot, file);
                List<String> captions = AnnotationJson.captions(entry, "caption", file, i);
                int label = imageIds.computeIfAbsent(image, k -> imageIds.size());
                samples.add(Sample.captioned(image, label,
                        new Sample.Captions(captions, file.toString(), i, samples.size())));
            });
        }
        if (samples.isEmpty()) {
            throw new PelaException(String.join(", ", files) + ": no entries");
        }
        return samples;
    }
}
