package ai.pela.spark.eval;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** PNG label maps of the kinds the ADE20K reader must accept or refuse, encoded with ImageIO. */
final class LabelPngs {
    private LabelPngs() {
    }

    /** An 8-bit grey PNG holding {@code values} row by row. */
    static byte[] grey(int w, int h, int[] values) {
        return encode(filled(new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY), values));
    }

    /** A 16-bit grey PNG. */
    static byte[] grey16(int w, int h, int[] values) {
        return encode(filled(new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY), values));
    }

    /** An 8-bit palette PNG whose indices are {@code values}; the colours are unrelated to the indices. */
    static byte[] palette(int w, int h, int[] values) {
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] b = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) (i * 37);
            g[i] = (byte) (255 - i);
            b[i] = (byte) (i * 11);
        }
        IndexColorModel cm = new IndexColorModel(8, 256, r, g, b);
        return encode(filled(new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm), values));
    }

    /** An RGB PNG with every channel equal to {@code values}. */
    static byte[] rgb(int w, int h, int[] values) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            img.setRGB(i % w, i / w, v << 16 | v << 8 | v);
        }
        return encode(img);
    }

    private static BufferedImage filled(BufferedImage img, int[] values) {
        WritableRaster r = img.getRaster();
        r.setSamples(0, 0, img.getWidth(), img.getHeight(), 0, values);
        return img;
    }

    static byte[] encode(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer for image type " + img.getType());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
