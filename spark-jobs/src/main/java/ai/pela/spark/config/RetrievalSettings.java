package ai.pela.spark.config;

import java.util.Locale;

/** {@code pela.retrieval}: evaluate --task coco-retrieval's test set and ranking. */
public record RetrievalSettings(String format, String annotations, String split, String imageRoot, int kTest,
        int textLength, int maxWords, int batchSize) {

    public static RetrievalSettings from(Recipe r) {
        return new RetrievalSettings(r.string("retrieval.format").strip().toLowerCase(Locale.ROOT),
                r.string("retrieval.annotations"), r.string("retrieval.split"), r.string("retrieval.image-root"),
                Checks.nonNegative(r, "retrieval.k-test"), r.positive("retrieval.text-length"),
                r.positive("retrieval.max-words"), r.positive("retrieval.batch-size"));
    }

    public boolean karpathy() {
        return format.equals("karpathy");
    }
}
