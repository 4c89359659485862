package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {
    /** 3 images with 2 captions each; rows = images, columns = texts. */
    private static final float[][] SIM = {
        {0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.4f},
        {0.7f, 0.6f, 0.1f, 0.5f, 0.9f, 0.2f},
        {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}};
    private static final int[] TXT2IMG = {0, 0, 1, 1, 2, 2};
    private static final int[][] IMG2TXT = {{0, 1}, {2, 3}, {4, 5}};

    @Test
    void handComputedRanksOfASmallSimilarityMatrix() {
        // image → text, best of the image's captions: image 0: t0 first (0); image 1: t4 t0 t1 t3 … so t3 at 3;
        // image 2: t5 first (0). Text → image: t0 [.9 .7 .1] → 0; t1 [.1 .6 .2] → 2; t2 [.8 .1 .3] → 2;
        // t3 [.2 .5 .4] → 0; t4 [.3 .9 .5] → 1; t5 [.4 .2 .6] → 0.
        RetrievalMetrics m = RetrievalMetrics.fromScores(SIM, transpose(SIM), TXT2IMG, IMG2TXT);
        assertThat(m.txtR1()).isCloseTo(200.0 / 3, within(1e-9));
        assertThat(m.txtR5()).isEqualTo(100.0);
        assertThat(m.txtR10()).isEqualTo(100.0);
        assertThat(m.imgR1()).isEqualTo(50.0);
        assertThat(m.imgR5()).isEqualTo(100.0);
        assertThat(m.txtRMean()).isCloseTo((200.0 / 3 + 200) / 3, within(1e-9));
        assertThat(m.imgRMean()).isCloseTo(250.0 / 3, within(1e-9));
        assertThat(m.rMean()).isCloseTo(((200.0 / 3 + 200) / 3 + 250.0 / 3) / 2, within(1e-9));
        assertThat(m.toJson().fieldNames()).toIterable().containsExactly("txt_r1", "txt_r5", "txt_r10", "txt_r_mean",
                "img_r1", "img_r5", "img_r10", "img_r_mean", "r_mean", "images", "texts");
    }

    @Test
    void recallCountsRanksBelowK() {
        RetrievalMetrics m = RetrievalMetrics.fromRanks(new int[] {0, 4, 5, 9, 10}, new int[] {1});
        assertThat(m.txtR1()).isEqualTo(20.0);
        assertThat(m.txtR5()).isEqualTo(40.0);
        assertThat(m.txtR10()).isEqualTo(80.0);
        assertThat(m.imgR1()).isEqualTo(0.0);
        assertThat(m.imgR5()).isEqualTo(100.0);
    }

    @Test
    void tiesRankTheSmallerIndexFirst() {
        float[] row = {0.5f, 0.5f, 0.5f, 0.7f};
        assertThat(RetrievalMetrics.rank(row, 0)).isEqualTo(1);
        assertThat(RetrievalMetrics.rank(row, 2)).isEqualTo(3);
        assertThat(RetrievalMetrics.bestRank(row, new int[] {2, 1})).isEqualTo(2);
    }

    @Test
    void sparseRankEqualsTheRankInTheFilledDenseRow() {
        Random r = new Random(3);
        for (int trial = 0; trial < 2000; trial++) {
            int size = 1 + r.nextInt(12);
            int k = r.nextInt(size + 1);
            int[] candidates = r.ints(0, size).distinct().limit(k).toArray();
            float fill = -100f;
            float[] scores = new float[candidates.length];
            float[] dense = new float[size];
            java.util.Arrays.fill(dense, fill);
            for (int j = 0; j < candidates.length; j++) {
                // a few distinct values, some equal to or below the fill, so ties of every kind occur
                scores[j] = (float) (-101 + r.nextInt(4));
                dense[candidates[j]] = scores[j];
            }
            for (int gold = 0; gold < size; gold++) {
                assertThat(RetrievalMetrics.sparseRank(size, candidates, scores, fill, gold))
                        .as("trial %d gold %d", trial, gold).isEqualTo(RetrievalMetrics.rank(dense, gold));
            }
        }
    }

    private static float[][] transpose(float[][] a) {
        float[][] t = new float[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }
}
