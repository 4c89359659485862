package ai.pela.zoo.albef;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ALBEF's hard-negative mining for ITM: for each row of a similarity matrix, one column drawn with probability
 * softmax(row) with the diagonal (the positive pair) zeroed, as {@code torch.multinomial(weights[b], 1)} does.
 * Done on the host with a seeded {@link Random}, so a step is reproducible; the indices then feed the graph.
 */
public final class HardNegatives {
    private HardNegatives() {
    }

    /** The chosen negatives of a batch: for each text an image, for each image a text. */
    public record Choice(int[] negImage, int[] negText) {
    }

    /**
     * @param simI2T [N, N] image-to-text similarities (sim_t2i is its transpose when there is no queue)
     */
    public static Choice sample(INDArray simI2T, Random rng) {
        double[][] i2t = simI2T.castTo(DataType.DOUBLE).toDoubleMatrix();
        int n = i2t.length;
        if (n < 2) {
            throw new IllegalArgumentException("hard negatives need a batch of at least 2 pairs, got " + n);
        }
        double[][] t2i = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                t2i[j][i] = i2t[i][j];
            }
        }
        int[] negImage = new int[n];
        int[] negText = new int[n];
        for (int b = 0; b < n; b++) {
            negImage[b] = draw(t2i[b], b, rng);   // ALBEF draws the images first, from weights_t2i
        }
        for (int b = 0; b < n; b++) {
            negText[b] = draw(i2t[b], b, rng);
        }
        return new Choice(negImage, negText);
    }

    /** One index from softmax(row) with entry {@code self} removed. */
    static int draw(double[] row, int self, Random rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < row.length; j++) {
            if (j != self) {
                max = Math.max(max, row[j]);
            }
        }
        double[] w = new double[row.length];
        double total = 0;
        for (int j = 0; j < row.length; j++) {
            w[j] = j == self ? 0 : Math.exp(row[j] - max);
            total += w[j];
        }
        double u = rng.nextDouble() * total;
        int last = -1;
        for (int j = 0; j < row.length; j++) {
            if (w[j] > 0) {
                last = j;
                u -= w[j];
                if (u < 0) {
                    return j;
                }
            }
        }
        return last; // rounding left u ≥ 0: the last candidate
    }
}
