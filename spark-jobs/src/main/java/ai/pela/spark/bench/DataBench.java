package ai.pela.spark.bench;

import ai.pela.spark.data.BadImageException;
import ai.pela.spark.data.ImageDecoder;
import ai.pela.spark.data.ImageTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * (e) The executors' data pipeline on one core: JPEG decode + RandomResizedCrop/flip + normalise to 224², against
 * PIL + torchvision doing the same on the same files (one data-loader worker's work). The files are 500×375
 * JPEGs (ImageNet's typical size) drawn here: smooth gradients under texture and noise, so they compress like
 * photographs rather than like flat colour.
 */
public final class DataBench {
    static final int WIDTH = 500;
    static final int HEIGHT = 375;
    private static final int WARMUP_PASSES = 4;

    private DataBench() {
    }

    public static List<BenchRow> run(int images, int size, BenchSettings s) {
        Path dir = s.workDir().resolve("jpeg");
        List<byte[]> blobs = writeImages(dir, images);
        ImageTransform tf = ImageTransform.train(size, new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225});
        float[] out = new float[tf.floatsPerImage()];
        SplittableRandom rng = new SplittableRandom(7);
        Runnable pass = () -> blobs.forEach(b -> tf.apply(decode(b), rng, out, 0));
        try (TorchProcess ref = TorchProcess.start(s.python(), s.script(), 1,
                List.of("--mode", "data", "--images", dir.toString(), "--size", Integer.toString(size)))) {
            // The resampler's loops need C2 and the heap its steady size before the timing means anything; PIL
            // needs neither, but its side is warmed the same way.
            for (int i = 0; i < Math.max(WARMUP_PASSES, s.warmup()); i++) {
                pass.run();
                ref.time(1);
            }
            double load0 = Machine.load();
            List<List<Double>> t = Timing.alternate(s.rounds(), () -> Timing.repeat(1, pass), () -> ref.time(1).get("data"));
            double load = (load0 + Machine.load()) / 2;
            return List.of(new BenchRow("data", String.format("JPEG %d×%d decode + RandomResizedCrop %d² + flip + "
                            + "normalise, 1 thread", WIDTH, HEIGHT, size), images / Timing.median(t.get(0)),
                    images / Timing.median(t.get(1)), "images/s/core", load,
                    "ours: ImageIO (TwelveMonkeys) + ImageTransform; reference: PIL + torchvision " + images + " images/pass"));
        }
    }

    private static BufferedImage decode(byte[] b) {
        try {
            return ImageDecoder.decode(b);
        } catch (BadImageException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<byte[]> writeImages(Path dir, int n) {
        try {
            Files.createDirectories(dir);
            List<byte[]> blobs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Path p = dir.resolve(String.format("img%03d.jpg", i));
                ImageIO.write(draw(i), "jpg", p.toFile());
                blobs.add(Files.readAllBytes(p));
            }
            return blobs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImage draw(int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        double fx = 0.01 + 0.05 * r.nextDouble();
        double fy = 0.01 + 0.05 * r.nextDouble();
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int red = clamp(128 + 90 * Math.sin(x * fx) + r.nextInt(-20, 21));
                int green = clamp(255.0 * y / HEIGHT + 30 * Math.sin((x + y) * fy) + r.nextInt(-20, 21));
                int blue = clamp(128 + 100 * Math.cos(x * fy + y * fx) + r.nextInt(-20, 21));
                img.setRGB(x, y, red << 16 | green << 8 | blue);
            }
        }
        return img;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, v));
    }
}
