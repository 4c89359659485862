package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.util.List;
import java.util.Locale;

/**
 * The image-text formats by the names a recipe gives them, for the driver of a vision-language job: training
 * samples to cut into rounds with {@link EpochPlan}, and retrieval test sets.
 */
public final class CaptionSources {
    /** The annotation formats. */
    public enum Format {
        /** ALBEF's pre-training lists: {@code [{"image", "caption": str | [str]}]}, several files. */
        ALBEF_PRETRAIN("albef-pretrain"),
        /** ALBEF's retrieval files: train {@code [{"image", "caption", "image_id"}]}, val/test {@code [{"image", "caption": [...]}]}. */
        ALBEF_RETRIEVAL("albef-retrieval"),
        /** Karpathy's {@code dataset_coco.json} / {@code dataset_flickr30k.json}, one file with every split. */
        KARPATHY("karpathy");

        private final String key;

        Format(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }

        public static Format parse(String value) {
            String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
            for (Format f : values()) {
                if (f.key.equals(v)) {
                    return f;
                }
            }
            throw new PelaException("caption format '" + value + "' is not one of: albef-pretrain, albef-retrieval, karpathy");
        }
    }

    private CaptionSources() {
    }

    /** The training samples of the annotation files (Karpathy: exactly one file, its train + restval split). */
    public static List<Sample> train(Storage storage, Format format, List<String> files, String imageRoot) {
        return switch (format) {
            case ALBEF_PRETRAIN -> new PretrainJsonSource(storage, files, imageRoot).list();
            case ALBEF_RETRIEVAL -> new RetrievalJsonSource(storage, imageRoot).train(files);
            case KARPATHY -> new KarpathySource(storage, single(files, format), imageRoot).train();
        };
    }

    /**
     * A retrieval test set: an ALBEF val/test file, or a split ("val", "test") of a Karpathy file; pre-training
     * files have none.
     */
    public static RetrievalEvalSet eval(Storage storage, Format format, String file, String imageRoot, String split) {
        return switch (format) {
            case ALBEF_PRETRAIN -> throw new PelaException(file + ": the albef-pretrain format has no retrieval "
                    + "test set; give an albef-retrieval or karpathy file");
            case ALBEF_RETRIEVAL -> new RetrievalJsonSource(storage, imageRoot).eval(file);
            case KARPATHY -> new KarpathySource(storage, file, imageRoot).eval(split);
        };
    }

    private static String single(List<String> files, Format format) {
        if (files.size() != 1) {
            throw new PelaException("the " + format.key() + " format takes one annotation file with every split, got "
                    + files.size() + ": " + files);
        }
        return files.get(0);
    }
}
