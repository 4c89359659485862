package ai.pela.spark.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Logits to classes: the image's region of the canvas resized bilinearly, then arg-max; mmseg's window grid. */
class SegPredictionTest {
    @Test
    void argmaxOfTheResizedRegionIgnoresThePadding() {
        // 2 classes on a 4x4 canvas whose image region is the top-left 2x2; class 1 wins in the left column only.
        int k = 2;
        float[] logits = new float[k * 16];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                logits[y * 4 + x] = 0;                                   // class 0
                logits[16 + y * 4 + x] = x == 0 ? 1 : x == 1 ? -1 : 100; // class 1; padding would win everywhere
            }
        }
        // The 2x2 region resized to a 4-wide, 2-high original: source x = (i + 0.5) / 2 - 0.5 -> 0, 0.25, 0.75, 1.
        int[] pred = SegPrediction.argmax(logits, 0, k, 4, 4, 2, 2, 4, 2);
        // class 1 value along x: 1, 0.5, -0.5, -1 -> classes 1, 1, 0, 0 on both rows
        assertThat(pred).containsExactly(1, 1, 0, 0, 1, 1, 0, 0);
    }

    @Test
    void windowsCoverTheImageAndTheLastOnesAreShiftedBackInside() {
        // mmseg: h_grids = max(h - crop + stride - 1, 0) // stride + 1; 10 wide, crop 4, stride 3 -> 3 columns.
        List<int[]> w = SegPrediction.windows(10, 4, 4, 3);
        assertThat(w).extracting(a -> a[0]).containsExactly(0, 3, 6);
        assertThat(w).extracting(a -> a[1]).containsExactly(0, 0, 0);
        float[] sum = new float[10 * 4];
        int[] count = new int[10 * 4];
        float[] ones = new float[3 * 16];
        java.util.Arrays.fill(ones, 1f);
        SegPrediction.accumulate(ones, w, 1, 4, 10, 4, sum, count);
        assertThat(count[0]).isEqualTo(1);
        assertThat(count[3]).isEqualTo(2);
        assertThat(count[9]).isEqualTo(1);
        SegPrediction.divide(sum, count, 1);
        assertThat(sum).containsOnly(1f);
    }
}
