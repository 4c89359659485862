package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    private static int[] rgbOf(BufferedImage img, int x, int y) {
        int p = img.getRGB(x, y);
        return new int[] {(p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff};
    }

    @Test
    void pngDecodesToExactlyTheOriginalPixels() throws Exception {
        BufferedImage original = TestData.colour(3);
        BufferedImage decoded = ImageDecoder.decode(TestData.encode(original, "png"));
        assertThat(decoded.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertThat(decoded.getRGB(x, y)).isEqualTo(original.getRGB(x, y));
            }
        }
    }

    @Test
    void greyIsReplicatedToThreeChannelsWithoutGammaConversion() throws Exception {
        BufferedImage grey = TestData.grey(5);
        BufferedImage decoded = ImageDecoder.decode(TestData.encode(grey, "png"));
        assertThat(decoded.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int v = grey.getRaster().getSample(x, y, 0);
                assertThat(rgbOf(decoded, x, y)).containsExactly(v, v, v);
            }
        }
    }

    @Test
    void sixteenBitGreyIsScaledToEightBits() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSample(0, 0, 0, 65535);
        img.getRaster().setSample(1, 0, 0, 128 * 257);
        BufferedImage decoded = ImageDecoder.decode(TestData.encode(img, "png"));
        assertThat(rgbOf(decoded, 0, 0)).containsExactly(255, 255, 255);
        assertThat(rgbOf(decoded, 1, 0)).containsExactly(128, 128, 128);
    }

    @Test
    void alphaIsDroppedNotComposited() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        img.setRGB(0, 0, 0x00_20_40_60); // fully transparent
        img.setRGB(1, 0, 0x80_C0_A0_10);
        BufferedImage decoded = ImageDecoder.decode(TestData.encode(img, "png"));
        assertThat(rgbOf(decoded, 0, 0)).containsExactly(0x20, 0x40, 0x60);
        assertThat(rgbOf(decoded, 1, 0)).containsExactly(0xC0, 0xA0, 0x10);
    }

    @Test
    void paletteImagesLookUpTheirColours() throws Exception {
        byte[] r = {(byte) 255, 0, 10};
        byte[] g = {0, (byte) 255, 20};
        byte[] b = {0, 0, 30};
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 3, r, g, b));
        for (int x = 0; x < 3; x++) {
            img.getRaster().setSample(x, 0, 0, x);
        }
        BufferedImage decoded = ImageDecoder.decode(TestData.encode(img, "gif"));
        assertThat(rgbOf(decoded, 0, 0)).containsExactly(255, 0, 0);
        assertThat(rgbOf(decoded, 1, 0)).containsExactly(0, 255, 0);
        assertThat(rgbOf(decoded, 2, 0)).containsExactly(10, 20, 30);
    }

    /** Lossy JPEG (default quality, 4:2:0 chroma) on sharp 28-pixel items: close, and as ImageIO decodes it. */
    @Test
    void jpegAndBmpDecodeAsImageIoDoesAndCloseToTheOriginal() throws Exception {
        BufferedImage original = TestData.colour(8);
        for (String format : new String[] {"jpg", "bmp"}) {
            byte[] bytes = TestData.encode(original, format);
            BufferedImage decoded = ImageDecoder.decode(bytes);
            BufferedImage reference = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
            assertThat(decoded.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
            double err = 0;
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    assertThat(decoded.getRGB(x, y)).isEqualTo(reference.getRGB(x, y));
                    int[] a = rgbOf(decoded, x, y);
                    int[] e = rgbOf(original, x, y);
                    for (int c = 0; c < 3; c++) {
                        err += Math.abs(a[c] - e[c]);
                    }
                }
            }
            assertThat(err / (28 * 28 * 3)).as(format).isLessThan(format.equals("bmp") ? 0.001 : 25);
        }
    }

    /**
     * A CMYK JPEG with an Adobe marker (left half C=0 M=255 Y=255 K=0, right half C=255 M=255 Y=0 K=0), made with
     * ImageMagick 6.9: {@code convert -size 8x8 xc:'cmyk(0,255,255,0)' -size 8x8 xc:'cmyk(255,255,0,0)' +append
     * -colorspace CMYK -quality 95 -strip cmyk-red-blue.jpg}. The JDK's own reader rejects it; TwelveMonkeys'
     * converts it to RGB.
     */
    @Test
    void cmykJpegBecomesRgb() throws Exception {
        byte[] bytes;
        try (InputStream in = getClass().getResourceAsStream("/data/cmyk-red-blue.jpg")) {
            bytes = in.readAllBytes();
        }
        BufferedImage decoded = ImageDecoder.decode(bytes);
        assertThat(decoded.getWidth()).isEqualTo(16);
        assertThat(decoded.getHeight()).isEqualTo(8);
        int[] red = rgbOf(decoded, 2, 4);
        int[] blue = rgbOf(decoded, 13, 4);
        assertThat(red[0]).isGreaterThan(200);
        assertThat(red[1]).isLessThan(60);
        assertThat(red[2]).isLessThan(60);
        assertThat(blue[2]).isGreaterThan(120);
        assertThat(blue[0]).isLessThan(80);
    }

    @Test
    void garbageAndEmptyInputAreBadImages() {
        assertThatThrownBy(() -> ImageDecoder.decode(TestData.ascii("this is not an image at all")))
                .isInstanceOf(BadImageException.class).hasMessageContaining("not an image");
        assertThatThrownBy(() -> ImageDecoder.decode(new byte[0]))
                .isInstanceOf(BadImageException.class).hasMessageContaining("empty");
    }

    @Test
    void truncatedJpegsAndPngsAreBadImages() {
        BufferedImage img = TestData.colour(11);
        byte[] jpeg = TestData.encode(img, "jpg");
        for (int keep : new int[] {jpeg.length / 3, jpeg.length * 2 / 3, jpeg.length - 2}) {
            assertThatThrownBy(() -> ImageDecoder.decode(Arrays.copyOf(jpeg, keep)))
                    .as("jpeg cut to %d of %d bytes", keep, jpeg.length)
                    .isInstanceOf(BadImageException.class)
                    .hasMessageMatching("(?s).*(truncated|corrupt).*");
        }
        byte[] png = TestData.encode(img, "png");
        assertThatThrownBy(() -> ImageDecoder.decode(Arrays.copyOf(png, png.length / 2)))
                .isInstanceOf(BadImageException.class).hasMessageContaining("corrupt");
    }

    @Test
    void aDecompressionBombIsRefusedBeforeAllocation() throws Exception {
        assertThatThrownBy(() -> ImageDecoder.decode(pngHeader(50_000, 50_000)))
                .isInstanceOf(BadImageException.class)
                .hasMessageContaining("50000x50000").hasMessageContaining("exceeds the limit");
    }

    /** A PNG signature and IHDR chunk (8-bit grey) with no image data: enough for a reader to report the size. */
    private static byte[] pngHeader(int w, int h) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        d.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream chunk = new ByteArrayOutputStream();
        DataOutputStream c = new DataOutputStream(chunk);
        c.writeBytes("IHDR");
        c.writeInt(w);
        c.writeInt(h);
        c.write(new byte[] {8, 0, 0, 0, 0});
        byte[] body = chunk.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(body);
        d.writeInt(body.length - 4);
        d.write(body);
        d.writeInt((int) crc.getValue());
        return out.toByteArray();
    }
}
