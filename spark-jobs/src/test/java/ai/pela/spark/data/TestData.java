package ai.pela.spark.data;

import ai.pela.zoo.data.Idx;
import ai.pela.zoo.testing.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Test images cut from 256 real Fashion-MNIST items (model-zoo's test resources), encoded with ImageIO, and a tiny
 * tar writer for shards no well-behaved library would write (hostile names, broken headers, truncation).
 */
final class TestData {
    private static Idx.UByteArray images;
    private static Idx.UByteArray labels;

    private TestData() {
    }

    static synchronized Idx.UByteArray images() {
        if (images == null) {
            images = Idx.read(FashionMnist.file("train256-images-idx3-ubyte.gz"));
            labels = Idx.read(FashionMnist.file("train256-labels-idx1-ubyte.gz"));
        }
        return images;
    }

    static int label(int item) {
        images();
        return labels.unsigned(item);
    }

    /** Item {@code item} as a 28×28 grey image. */
    static BufferedImage grey(int item) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                img.getRaster().setSample(x, y, 0, images().unsigned((long) item * 784 + y * 28 + x));
            }
        }
        return img;
    }

    /** Item {@code item} tinted into colour (red = grey, green = grey/2, blue = 255 − grey), 28×28 RGB. */
    static BufferedImage colour(int item) {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int v = images().unsigned((long) item * 784 + y * 28 + x);
                img.setRGB(x, y, v << 16 | (v / 2) << 8 | (255 - v));
            }
        }
        return img;
    }

    static BufferedImage constant(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A ustar writer that writes whatever it is told: any name, any size field, with or without the end marker. */
    static final class TinyTar {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        TinyTar add(String name, byte[] data) {
            return add(name, '0', data, data.length);
        }

        /** A member whose header claims {@code size} bytes while {@code data} follows. */
        TinyTar add(String name, char type, byte[] data, long size) {
            out.writeBytes(header(name, type, size));
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
            return this;
        }

        TinyTar raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        /** The archive with tar's end-of-archive marker, two zero blocks. */
        byte[] finish() {
            out.writeBytes(new byte[1024]);
            return out.toByteArray();
        }

        static byte[] header(String name, char type, long size) {
            byte[] h = new byte[512];
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(n, 0, h, 0, Math.min(n.length, 100));
            put(h, 100, "0000644");
            put(h, 108, "0000000");
            put(h, 116, "0000000");
            put(h, 124, String.format("%011o", size));
            put(h, 136, "00000000000");
            h[156] = (byte) type;
            put(h, 257, "ustar");
            put(h, 263, "00");
            for (int i = 148; i < 156; i++) {
                h[i] = ' ';
            }
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            put(h, 148, String.format("%06o", sum));
            h[154] = 0;
            return h;
        }

        private static void put(byte[] h, int at, String s) {
            byte[] b = ascii(s);
            System.arraycopy(b, 0, h, at, b.length);
        }
    }
}
