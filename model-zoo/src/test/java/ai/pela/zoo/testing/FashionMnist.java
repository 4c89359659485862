package ai.pela.zoo.testing;

import ai.pela.zoo.data.Idx;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 256 real Fashion-MNIST training items (src/test/resources/fashion-mnist, cut from Debian's
 * dataset-fashion-mnist by src/test/python/make_fashion_subset.py), as model input: zero-padded to 32×32,
 * grey replicated to 3 channels, normalised with ImageNet mean/std like the demo's pipeline.
 */
public final class FashionMnist {
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    /** A batch of images [n, 3, 32, 32] and their labels. */
    public record Batch(INDArray images, int[] labels) {
    }

    private FashionMnist() {
    }

    public static Path file(String name) {
        return Fixtures.resource("/fashion-mnist/" + name);
    }

    public static Batch batch(int offset, int n) {
        Idx.UByteArray images = Idx.read(file("train256-images-idx3-ubyte.gz"));
        Idx.UByteArray labels = Idx.read(file("train256-labels-idx1-ubyte.gz"));
        float[] x = new float[n * 3 * 32 * 32];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int item = offset + i;
            y[i] = labels.unsigned(item);
            for (int c = 0; c < 3; c++) {
                for (int r = 0; r < 32; r++) {
                    for (int col = 0; col < 32; col++) {
                        boolean inside = r >= 2 && r < 30 && col >= 2 && col < 30;
                        double v = inside ? images.unsigned((long) item * 784 + (r - 2) * 28 + (col - 2)) / 255.0 : 0;
                        x[((i * 3 + c) * 32 + r) * 32 + col] = (float) ((v - MEAN[c]) / STD[c]);
                    }
                }
            }
        }
        return new Batch(Nd4j.create(x, new long[] {n, 3, 32, 32}, 'c').castTo(DataType.FLOAT), y);
    }
}
