package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.SplittableRandom;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class ImageTransformTest {
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    @Test
    void theSameSeedGivesTheSamePixelsAndAnotherSeedOthers() {
        ImageTransform t = ImageTransform.train(32, MEAN, STD);
        BufferedImage img = TestData.colour(17);
        float[] a = t.apply(img, new SplittableRandom(42));
        float[] b = t.apply(img, new SplittableRandom(42));
        float[] c = t.apply(img, new SplittableRandom(43));
        assertThat(a).hasSize(3 * 32 * 32).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void writesAtTheGivenOffsetOfABatchBuffer() {
        ImageTransform t = ImageTransform.train(16, MEAN, STD);
        float[] batch = new float[2 * t.floatsPerImage() + 1];
        batch[0] = -99f;
        t.apply(TestData.colour(1), new SplittableRandom(7), batch, 1 + t.floatsPerImage());
        float[] alone = t.apply(TestData.colour(1), new SplittableRandom(7));
        assertThat(batch[0]).isEqualTo(-99f);
        assertThat(java.util.Arrays.copyOfRange(batch, 1 + t.floatsPerImage(), batch.length)).containsExactly(alone);
    }

    @Test
    void aConstantImageNormalisesToItsValue() {
        BufferedImage img = TestData.constant(300, 200, 100 << 16 | 150 << 8 | 200);
        int[] v = {100, 150, 200};
        for (ImageTransform t : new ImageTransform[] {ImageTransform.eval(24, MEAN, STD),
            ImageTransform.train(24, MEAN, STD)}) {
            float[] out = t.apply(img, new SplittableRandom(1));
            assertThat(out).hasSize(3 * 24 * 24);
            for (int c = 0; c < 3; c++) {
                float expected = (float) ((v[c] / 255.0 - MEAN[c]) / STD[c]);
                for (int i = 0; i < 24 * 24; i++) {
                    assertThat(out[c * 576 + i]).isCloseTo(expected, Offset.offset(1e-6f));
                }
            }
        }
    }

    /** torchvision's Resize(int): shorter side round(size / 0.875), longer side int(shorter · long / short). */
    @Test
    void evalResizesTheShorterSide() {
        ImageTransform t224 = ImageTransform.eval(224, MEAN, STD);
        assertThat(t224.evalResize(500, 375)).containsExactly(341, 256);
        assertThat(t224.evalResize(375, 500)).containsExactly(256, 341);
        assertThat(t224.evalResize(28, 28)).containsExactly(256, 256);
        assertThat(ImageTransform.eval(28, MEAN, STD).evalResize(500, 375)).containsExactly(42, 32);
        assertThat(t224.apply(TestData.colour(0), null)).hasSize(3 * 224 * 224);
    }

    /** size 28 → shorter side round(28 / 0.875) = 32: a 32×32 image is not resized, only centre-cropped at (2, 2). */
    @Test
    void evalOutputIsTheCentreCropOfTheResizedImage() {
        ImageTransform t = ImageTransform.eval(28, new double[] {0, 0, 0}, new double[] {1, 1, 1});
        BufferedImage img = TestData.colour(23);
        BufferedImage padded = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        padded.getGraphics().drawImage(img, 2, 2, null);
        float[] out = t.apply(padded, null);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int p = img.getRGB(x, y);
                assertThat(out[y * 28 + x] * 255).isCloseTo((p >> 16) & 0xff, Offset.offset(1e-3f));
                assertThat(out[2 * 784 + y * 28 + x] * 255).isCloseTo(p & 0xff, Offset.offset(1e-3f));
            }
        }
    }

    @Test
    void randomResizedCropStaysInsideTheImageWithinScaleAndRatio() {
        ImageTransform t = ImageTransform.train(224, MEAN, STD);
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 2000; i++) {
            int w = 100 + rng.nextInt(500);
            int h = 100 + rng.nextInt(500);
            Resampler.Box b = t.randomResizedCrop(w, h, rng);
            assertThat(b.x()).isBetween(0, w - b.w());
            assertThat(b.y()).isBetween(0, h - b.h());
            assertThat(b.w()).isPositive();
            assertThat(b.h()).isPositive();
            double fraction = (double) b.w() * b.h() / ((double) w * h);
            assertThat(fraction).isBetween(0.07, 1.0);
            assertThat((double) b.w() / b.h()).isBetween(0.70, 1.40);
        }
    }

    @Test
    void aNarrowerScaleRangeKeepsMoreOfTheImage() {
        ImageTransform t = ImageTransform.train(28, MEAN, STD, 0.5, 0.9);
        SplittableRandom rng = new SplittableRandom(8);
        int fallbacks = 0;
        for (int i = 0; i < 500; i++) {
            Resampler.Box b = t.randomResizedCrop(400, 300, rng);
            double fraction = (double) b.w() * b.h() / (400 * 300);
            if (fraction == 1.0) {
                fallbacks++; // ten misses in a row: torchvision's fallback, the whole 4:3 image
            } else {
                assertThat(fraction).isBetween(0.49, 0.91);
            }
        }
        assertThat(fallbacks).isLessThan(25);
        assertThatThrownBy(() -> ImageTransform.train(28, MEAN, STD, 0.5, 1.1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("crop scale");
        assertThatThrownBy(() -> ImageTransform.train(28, MEAN, STD, 0, 1)).hasMessageContaining("crop scale");
    }

    @Test
    void anExtremeAspectRatioFallsBackToTorchvisionsCentreCrop() {
        ImageTransform t = ImageTransform.train(224, MEAN, STD);
        // 1000×10: no crop of 8–100 % area with ratio ≤ 4/3 fits; torchvision crops 13×10 from the middle.
        Resampler.Box b = t.randomResizedCrop(1000, 10, new SplittableRandom(3));
        assertThat(b).isEqualTo(new Resampler.Box(493, 0, 13, 10));
        Resampler.Box tall = t.randomResizedCrop(10, 1000, new SplittableRandom(3));
        assertThat(tall).isEqualTo(new Resampler.Box(0, 493, 10, 13));
    }

    @Test
    void survivesSerialisation() throws Exception {
        ImageTransform t = ImageTransform.train(16, MEAN, STD);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(t);
        }
        ImageTransform copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (ImageTransform) in.readObject();
        }
        BufferedImage img = TestData.colour(2);
        assertThat(copy.apply(img, new SplittableRandom(9))).containsExactly(t.apply(img, new SplittableRandom(9)));
    }
}
