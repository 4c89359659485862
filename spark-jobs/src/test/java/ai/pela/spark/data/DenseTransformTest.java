package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** One geometry moves pixels, label map and boxes alike: a bright rectangle stays under its label and its box. */
class DenseTransformTest {
    private static final double[] MEAN = {0.5, 0.5, 0.5};
    private static final double[] STD = {0.5, 0.5, 0.5};
    private static final int W = 90;
    private static final int H = 60;
    // The object: columns 20..49, rows 10..29 (box corners 20, 10, 50, 30).
    private static final int X1 = 20;
    private static final int Y1 = 10;
    private static final int X2 = 50;
    private static final int Y2 = 30;

    private static BufferedImage image() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = Y1; y < Y2; y++) {
            for (int x = X1; x < X2; x++) {
                img.setRGB(x, y, 0xffffff);
            }
        }
        return img;
    }

    private static int[] labels() {
        int[] l = new int[W * H];
        java.util.Arrays.fill(l, 255);
        for (int y = Y1; y < Y2; y++) {
            for (int x = X1; x < X2; x++) {
                l[y * W + x] = 3;
            }
        }
        return l;
    }

    @Test
    void trainingCropsAndFlipsKeepPixelsLabelsAndBoxTogether() {
        DenseTransform t = new DenseTransform(48, MEAN, STD, 1.0, 1.5);
        int flips = 0;
        for (long seed = 0; seed < 20; seed++) {
            DenseTransform.Geometry g = t.train(W, H, new SplittableRandom(seed));
            flips += g.flip() ? 1 : 0;
            float[] px = new float[t.floatsPerImage()];
            t.image(image(), g, px, 0);
            int[] lab = t.labels(labels(), g, 255);
            double[] box = DenseTransform.box(X1, Y1, X2, Y2, g);
            int[] bounds = bounds(lab);
            if (box == null) {
                assertThat(bounds).as("seed %d: no box, no labelled pixel", seed).isNull();
                continue;
            }
            // The labelled pixels fill the box up to the rounding of nearest-neighbour sampling.
            assertThat(bounds[0]).as("seed %d x1", seed).isCloseTo((int) Math.round(box[0]), within(1));
            assertThat(bounds[1]).as("seed %d y1", seed).isCloseTo((int) Math.round(box[1]), within(1));
            assertThat(bounds[2] + 1).as("seed %d x2", seed).isCloseTo((int) Math.round(box[2]), within(1));
            assertThat(bounds[3] + 1).as("seed %d y2", seed).isCloseTo((int) Math.round(box[3]), within(1));
            // Well inside the object the image is white (1 after normalisation), well outside black (−1).
            int cx = (bounds[0] + bounds[2]) / 2;
            int cy = (bounds[1] + bounds[3]) / 2;
            assertThat(px[cy * 48 + cx]).as("seed %d centre", seed).isCloseTo(1f, within(0.05f));
            assertThat(lab[cy * 48 + cx]).isEqualTo(3);
        }
        assertThat(flips).as("some crops are flipped, some not").isBetween(3, 17);
    }

    @Test
    void letterboxScalesTheLongerSideAndLeavesPaddingAtZeroAndIgnored() {
        DenseTransform t = new DenseTransform(45, MEAN, STD, 1, 1);
        DenseTransform.Geometry g = t.letterbox(W, H);
        assertThat(new int[] {g.outW(), g.outH()}).containsExactly(45, 30);
        float[] px = new float[t.floatsPerImage()];
        t.image(image(), g, px, 0);
        int[] lab = t.labels(labels(), g, 255);
        assertThat(px[40 * 45 + 5]).isZero();           // below the image: padding
        assertThat(lab[40 * 45 + 5]).isEqualTo(255);
        assertThat(DenseTransform.box(X1, Y1, X2, Y2, g)).containsExactly(10, 5, 25, 15);
        assertThat(bounds(lab)).containsExactly(10, 5, 24, 14);
    }

    @Test
    void aBoxTheCropCutsToUnderOnePixelIsDropped() {
        DenseTransform.Geometry g = new DenseTransform.Geometry(100, 100, 100, 100, 40, 0, 48, 48, false);
        assertThat(DenseTransform.box(0, 0, 40.5, 10, g)).isNull();
        assertThat(DenseTransform.box(0, 0, 42, 10, g)).containsExactly(0, 0, 2, 10);
        DenseTransform.Geometry flipped = new DenseTransform.Geometry(100, 100, 100, 100, 40, 0, 48, 48, true);
        assertThat(DenseTransform.box(0, 0, 42, 10, flipped)).containsExactly(46, 0, 48, 10);
    }

    /** min x, min y, max x, max y of the labelled pixels of a 48-wide (or 45-wide) canvas, or null. */
    private static int[] bounds(int[] lab) {
        int side = (int) Math.round(Math.sqrt(lab.length));
        int[] b = {Integer.MAX_VALUE, Integer.MAX_VALUE, -1, -1};
        for (int i = 0; i < lab.length; i++) {
            if (lab[i] != 255) {
                b[0] = Math.min(b[0], i % side);
                b[1] = Math.min(b[1], i / side);
                b[2] = Math.max(b[2], i % side);
                b[3] = Math.max(b[3], i / side);
            }
        }
        return b[2] < 0 ? null : b;
    }
}
