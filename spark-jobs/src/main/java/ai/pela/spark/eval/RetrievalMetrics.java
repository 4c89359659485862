package ai.pela.spark.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;

/**
 * Image-text retrieval recall as ALBEF's {@code itm_eval} computes it. Text retrieval (image → text, {@code txt_r*})
 * ranks every text for each image; the image's rank is that of its best-ranked own caption. Image retrieval (text →
 * image, {@code img_r*}) ranks every image for each caption; the rank is that of its image. R@k is the percentage of
 * queries ranked below k; each mean is the mean of its R@1, R@5, R@10, and {@code r_mean} the mean of the two.
 *
 * <p>Ties: numpy's argsort leaves their order to the sort algorithm; here a candidate ranks ahead of the gold one if
 * its score is higher, or equal with a smaller index (a stable descending sort), so results are deterministic.
 */
public record RetrievalMetrics(int images, int texts, double txtR1, double txtR5, double txtR10, double imgR1,
        double imgR5, double imgR10) implements Serializable {

    public double txtRMean() {
        return (txtR1 + txtR5 + txtR10) / 3;
    }

    public double imgRMean() {
        return (imgR1 + imgR5 + imgR10) / 3;
    }

    public double rMean() {
        return (txtRMean() + imgRMean()) / 2;
    }

    /** From the 0-based rank of each image's best caption ({@code i2t}) and of each caption's image ({@code t2i}). */
    public static RetrievalMetrics fromRanks(int[] i2t, int[] t2i) {
        return new RetrievalMetrics(i2t.length, t2i.length, recall(i2t, 1), recall(i2t, 5), recall(i2t, 10),
                recall(t2i, 1), recall(t2i, 5), recall(t2i, 10));
    }

    /**
     * From dense score matrices: {@code scoresI2T} [images][texts], {@code scoresT2I} [texts][images] (with ITC alone
     * one is the transpose of the other; with ITM re-ranking they differ where the top-k sets differ).
     */
    public static RetrievalMetrics fromScores(float[][] scoresI2T, float[][] scoresT2I, int[] txt2img, int[][] img2txt) {
        int[] i2t = new int[scoresI2T.length];
        for (int i = 0; i < i2t.length; i++) {
            i2t[i] = bestRank(scoresI2T[i], img2txt[i]);
        }
        int[] t2i = new int[scoresT2I.length];
        for (int t = 0; t < t2i.length; t++) {
            t2i[t] = rank(scoresT2I[t], txt2img[t]);
        }
        return fromRanks(i2t, t2i);
    }

    /** The smallest rank among the gold candidates. */
    public static int bestRank(float[] scores, int[] golds) {
        int best = Integer.MAX_VALUE;
        for (int g : golds) {
            best = Math.min(best, rank(scores, g));
        }
        return best;
    }

    /** 0-based rank of candidate {@code gold} in a dense score row (ties by index). */
    public static int rank(float[] scores, int gold) {
        float s = scores[gold];
        int ahead = 0;
        for (int c = 0; c < scores.length; c++) {
            if (scores[c] > s || scores[c] == s && c < gold) {
                ahead++;
            }
        }
        return ahead;
    }

    /**
     * The same rank in ALBEF's re-ranked row without building it: {@code candidates} (the top k, distinct) carry
     * {@code scores}, every other of the {@code size} entries the fill value ALBEF initialises its matrix with (−100).
     */
    public static int sparseRank(int size, int[] candidates, float[] scores, float fill, int gold) {
        float s = fill;
        for (int j = 0; j < candidates.length; j++) {
            if (candidates[j] == gold) {
                s = scores[j];
            }
        }
        int ahead = 0;
        int fillsTotal = size - candidates.length;
        int candidatesBefore = 0;
        for (int j = 0; j < candidates.length; j++) {
            int c = candidates[j];
            if (c != gold && (scores[j] > s || scores[j] == s && c < gold)) {
                ahead++;
            }
            candidatesBefore += c < gold ? 1 : 0;
        }
        if (fill > s) { // only when gold is a candidate scored below the fill: every filled entry is ahead
            ahead += fillsTotal;
        } else if (fill == s) { // filled entries tie with gold: those with a smaller index are ahead
            ahead += gold - candidatesBefore;
        }
        return ahead;
    }

    private static double recall(int[] ranks, int k) {
        if (ranks.length == 0) {
            return Double.NaN;
        }
        int hit = 0;
        for (int r : ranks) {
            hit += r < k ? 1 : 0;
        }
        return 100.0 * hit / ranks.length;
    }

    /** ALBEF's eval_result keys, in its order, plus the set's size. */
    public ObjectNode toJson() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        n.put("txt_r1", txtR1).put("txt_r5", txtR5).put("txt_r10", txtR10).put("txt_r_mean", txtRMean());
        n.put("img_r1", imgR1).put("img_r5", imgR5).put("img_r10", imgR10).put("img_r_mean", imgRMean());
        n.put("r_mean", rMean()).put("images", images).put("texts", texts);
        return n;
    }
}
