package ai.pela.spark.data;

import java.awt.Graphics2D;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Encoded bytes to an RGB image ({@code TYPE_INT_RGB}, 8 bits per channel) through ImageIO, where TwelveMonkeys'
 * JPEG reader registers itself and handles CMYK/YCCK and other JPEGs the JDK's reader rejects.
 *
 * <p>The conversion to RGB follows PIL's {@code convert("RGB")}, which the reference (torchvision) pipelines use:
 * grey is replicated to three channels as is, alpha is dropped (not composited), palette entries are looked up, and
 * samples of other depths are rescaled to 8 bits. Java2D's own conversion is avoided where possible because it
 * treats grey as linear light (grey 128 would become 188) and composites alpha; only colour spaces that are neither
 * RGB nor grey (CMYK left unconverted, YCbCr, Lab) go through it.
 */
public final class ImageDecoder {
    /** PIL's MAX_IMAGE_PIXELS: a larger image is treated as a decompression bomb, never allocated. */
    public static final long MAX_PIXELS = 89_478_485L;

    static {
        registerPlugins();
    }

    private ImageDecoder() {
    }

    /**
     * ImageIO registers the readers it finds through the context class loader of the thread that first uses it. On a
     * Spark executor the application jar (with TwelveMonkeys) sits in a child class loader, which that thread need
     * not have; scanning once with this class's loader makes sure the CMYK-capable JPEG reader is there.
     */
    private static void registerPlugins() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(ImageDecoder.class.getClassLoader());
        try {
            ImageIO.scanForPlugins();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Decodes an image; the result is always {@code TYPE_INT_RGB}. */
    public static BufferedImage decode(byte[] data) throws BadImageException {
        if (data.length == 0) {
            throw new BadImageException("empty file");
        }
        return toRgb(read(data));
    }

    private static BufferedImage read(byte[] data) throws BadImageException {
        // A memory-cached stream: ImageIO's default for an InputStream may cache to a temporary file per image.
        try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new BadImageException("not an image in a supported format (jpeg, png, bmp, gif)");
            }
            ImageReader reader = readers.next();
            try {
                return read(reader, iis);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            // Decoders signal corrupt data with IIOException but also with runtime exceptions of all kinds.
            throw new BadImageException("corrupt image data: " + e, e);
        }
    }

    private static BufferedImage read(ImageReader reader, ImageInputStream iis)
            throws IOException, BadImageException {
        reader.setInput(iis, true, true);
        long w = reader.getWidth(0);
        long h = reader.getHeight(0);
        if (w <= 0 || h <= 0) {
            throw new BadImageException("image has no pixels (" + w + "x" + h + ")");
        }
        if (w * h > MAX_PIXELS) {
            throw new BadImageException("image of " + w + "x" + h + " pixels exceeds the limit of " + MAX_PIXELS);
        }
        TruncationWarning warning = new TruncationWarning();
        reader.addIIOReadWarningListener(warning);
        BufferedImage img = reader.read(0, reader.getDefaultReadParam());
        if (warning.message != null) {
            // JPEG decoders fill a truncated image with grey and only warn; PIL refuses such files, and so do we.
            throw new BadImageException("truncated image data (" + warning.message + ")");
        }
        return img;
    }

    /** Remembers a decoder warning that says the data ended early. */
    private static final class TruncationWarning implements IIOReadWarningListener {
        String message;

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            String w = warning.toLowerCase(Locale.ROOT);
            if (message == null && (w.contains("truncat") || w.contains("premature end"))) {
                message = warning;
            }
        }
    }

    /** The image as {@code TYPE_INT_RGB}; returned unchanged if it already is. */
    public static BufferedImage toRgb(BufferedImage img) {
        if (img.getType() == BufferedImage.TYPE_INT_RGB) {
            return img;
        }
        ColorModel cm = img.getColorModel();
        int space = cm.getColorSpace().getType();
        BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        int[] rgb = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        if (cm instanceof IndexColorModel icm) {
            fromPalette(img.getRaster(), icm, rgb);
        } else if ((space == ColorSpace.TYPE_RGB || space == ColorSpace.TYPE_GRAY) && !cm.isAlphaPremultiplied()) {
            fromBands(img.getRaster(), space == ColorSpace.TYPE_GRAY, rgb);
        } else {
            Graphics2D g = out.createGraphics();
            g.drawImage(img, 0, 0, null);
            g.dispose();
        }
        return out;
    }

    private static void fromPalette(Raster r, IndexColorModel icm, int[] rgb) {
        int w = r.getWidth();
        int[] palette = new int[icm.getMapSize()];
        icm.getRGBs(palette);
        int[] row = new int[w];
        for (int y = 0; y < r.getHeight(); y++) {
            r.getSamples(r.getMinX(), r.getMinY() + y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                int index = row[x];
                rgb[y * w + x] = index < palette.length ? palette[index] & 0xffffff : 0;
            }
        }
    }

    /** RGB(A) or grey(+alpha) samples: bands 0..2 (or band 0 for grey) rescaled to 8 bits; alpha ignored. */
    private static void fromBands(Raster r, boolean grey, int[] rgb) {
        if (r.getSampleModel() instanceof ComponentSampleModel sm && r.getDataBuffer() instanceof DataBufferByte db
                && db.getNumBanks() == 1 && allEightBit(r)) {
            fromBytes(r, sm, db, grey, rgb);
            return;
        }
        int w = r.getWidth();
        int bands = r.getNumBands();
        int[] max = new int[bands];
        for (int b = 0; b < bands; b++) {
            max[b] = (1 << r.getSampleModel().getSampleSize(b)) - 1;
        }
        int[] row = new int[w * bands];
        for (int y = 0; y < r.getHeight(); y++) {
            r.getPixels(r.getMinX(), r.getMinY() + y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int p = x * bands;
                int red = to8(row[p], max[0]);
                int green = grey ? red : to8(row[p + 1], max[1]);
                int blue = grey ? red : to8(row[p + 2], max[2]);
                rgb[y * w + x] = red << 16 | green << 8 | blue;
            }
        }
    }

    /** The common case (every JPEG and most PNGs) read straight from the byte array, without per-sample calls. */
    private static void fromBytes(Raster r, ComponentSampleModel sm, DataBufferByte db, boolean grey, int[] rgb) {
        byte[] data = db.getData();
        int w = r.getWidth();
        int ps = sm.getPixelStride();
        int ss = sm.getScanlineStride();
        int[] bo = sm.getBandOffsets();
        int x0 = r.getMinX() - r.getSampleModelTranslateX();
        int y0 = r.getMinY() - r.getSampleModelTranslateY();
        int base = db.getOffset() + y0 * ss + x0 * ps;
        int ro = bo[0];
        int go = grey ? bo[0] : bo[1];
        int bOff = grey ? bo[0] : bo[2];
        for (int y = 0; y < r.getHeight(); y++) {
            int p = base + y * ss;
            int o = y * w;
            for (int x = 0; x < w; x++, p += ps) {
                rgb[o + x] = (data[p + ro] & 0xff) << 16 | (data[p + go] & 0xff) << 8 | (data[p + bOff] & 0xff);
            }
        }
    }

    private static boolean allEightBit(Raster r) {
        for (int size : r.getSampleModel().getSampleSize()) {
            if (size != 8) {
                return false;
            }
        }
        return r.getSampleModel().getDataType() == DataBuffer.TYPE_BYTE;
    }

    private static int to8(int v, int max) {
        return max == 255 ? v : (int) ((v * 255L + max / 2) / max);
    }
}
