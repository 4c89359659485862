package ai.pela.zoo.dense;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One-dimensional resampling as matrices {@code [out, in]}, exactly as PyTorch computes them, so a 2-D resize
 * of a map is {@code Mh · X · Mwᵀ}. Bilinear and bicubic interpolation are separable (the 2-D weights are
 * products of the 1-D ones), and so is adaptive average pooling (its bins are products of 1-D ranges).
 *
 * <p>Why matrices: two matmuls are differentiable in SameDiff without relying on the resize ops' backward
 * passes, they are exact to PyTorch's coordinate rules, and the maps of a dense head are small.
 */
public final class Interp {
    /** PyTorch's bicubic coefficient (upsample_bicubic2d). */
    private static final double CUBIC_A = -0.75;

    private Interp() {
    }

    /**
     * {@code F.interpolate(mode='bilinear', align_corners=False)} along one axis. The source coordinate of
     * output i is {@code (i + 0.5) · r − 0.5}, clamped at 0, with r = 1/scale when a scale factor was given
     * (mmseg's MultiLevelNeck passes one) and in/out otherwise.
     *
     * @param scale the scale factor passed to interpolate, or NaN when a target size was passed
     */
    public static INDArray bilinear(int in, int out, double scale) {
        double r = ratio(in, out, scale);
        double[][] m = new double[out][in];
        for (int i = 0; i < out; i++) {
            double src = Math.max((i + 0.5) * r - 0.5, 0);
            int i0 = Math.min((int) Math.floor(src), in - 1);
            int i1 = Math.min(i0 + 1, in - 1);
            double l1 = src - i0;
            m[i][i0] += 1 - l1;
            m[i][i1] += l1;
        }
        return toArray(m);
    }

    /**
     * {@code F.interpolate(mode='bicubic', align_corners=False)} along one axis: Keys' cubic with a = −0.75 on
     * the four neighbours of {@code (i + 0.5)·in/out − 0.5} (not clamped), indices clamped to the border.
     */
    public static INDArray bicubic(int in, int out) {
        double r = (double) in / out;
        double[][] m = new double[out][in];
        for (int i = 0; i < out; i++) {
            double src = (i + 0.5) * r - 0.5;
            int f = (int) Math.floor(src);
            double t = src - f;
            double[] w = {cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)};
            for (int k = 0; k < 4; k++) {
                int idx = Math.max(0, Math.min(in - 1, f - 1 + k));
                m[i][idx] += w[k];
            }
        }
        return toArray(m);
    }

    /** {@code nn.AdaptiveAvgPool2d} along one axis: bin i averages [floor(i·in/out), ceil((i+1)·in/out)). */
    public static INDArray adaptiveAvgPool(int in, int out) {
        double[][] m = new double[out][in];
        for (int i = 0; i < out; i++) {
            int start = (int) Math.floor((double) i * in / out);
            int end = (int) Math.ceil((double) (i + 1) * in / out);
            for (int j = start; j < end; j++) {
                m[i][j] = 1.0 / (end - start);
            }
        }
        return toArray(m);
    }

    /** Output size of interpolate with a scale factor: floor(in · scale). */
    public static int scaledSize(int in, double scale) {
        return (int) Math.floor(in * scale);
    }

    private static double ratio(int in, int out, double scale) {
        return Double.isNaN(scale) ? (double) in / out : 1.0 / scale;
    }

    private static double cubicNear(double x) {
        return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
    }

    private static double cubicFar(double x) {
        return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
    }

    private static INDArray toArray(double[][] m) {
        return Nd4j.createFromArray(m).castTo(DataType.FLOAT);
    }
}
