package ai.pela.zoo.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Both {@link Kernels} implementations against float64 references computed here in plain Java, at odd sizes and at
 * deit_tiny's (batch 16: 3152 token rows of 192, 48 attention maps of 197 × 197), plus the edge cases the engine
 * relies on. CpuKernels is loaded by name: the CUDA build compiles without it and runs the portable half.
 */
class KernelsTest {
    private static final String CPU_KERNELS = "ai.pela.zoo.engine.cpu.CpuKernels";
    private static final double TOLERANCE = 1e-5;
    private static final int[][] ROWS_BY_DIM = {{37, 19}, {16 * 197, 192}};

    static Stream<Named<Kernels>> implementations() {
        List<Named<Kernels>> list = new ArrayList<>();
        list.add(Named.of("portable", new PortableKernels()));
        if (KernelsChoice.cpuBackend()) {
            list.add(Named.of("cpu", KernelsChoice.choose("cpu", true)));
        }
        return list.stream();
    }

    // ---------------------------------------------------------------- LayerNorm

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void layerNormMatchesReference(Kernels k) {
        for (int[] md : ROWS_BY_DIM) {
            int m = md[0];
            int d = md[1];
            Random r = new Random(11 + m);
            INDArray x = gaussian(r, 1.5, m, d).addi(0.3);
            INDArray gamma = gaussian(r, 1, d);
            INDArray beta = gaussian(r, 1, d);
            INDArray xhat = Nd4j.createUninitialized(DataType.FLOAT, m, d);
            INDArray rstd = Nd4j.createUninitialized(DataType.FLOAT, m);
            INDArray y = Nd4j.createUninitialized(DataType.FLOAT, m, d);
            k.layerNorm(x, gamma, beta, 1e-6, xhat, rstd, y);
            LayerNormReference ref = new LayerNormReference(floats(x), floats(gamma), floats(beta), 1e-6, m, d);
            assertClose("xhat " + m, xhat, ref.xhat);
            assertClose("rstd " + m, rstd, ref.rstd);
            assertClose("y " + m, y, ref.y);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void layerNormOfConstantRowIsBeta(Kernels k) {
        int m = 4;
        int d = 192;
        Random r = new Random(3);
        INDArray x = gaussian(r, 1, m, d);
        x.getRow(1).assign(0.37f);
        x.getRow(2).assign(-3.3f);
        INDArray gamma = gaussian(r, 1, d);
        INDArray beta = gaussian(r, 1, d);
        INDArray xhat = Nd4j.createUninitialized(DataType.FLOAT, m, d);
        INDArray rstd = Nd4j.createUninitialized(DataType.FLOAT, m);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, m, d);
        k.layerNorm(x, gamma, beta, 1e-6, xhat, rstd, y);
        for (int row : new int[] {1, 2}) {
            assertThat(maxAbs(xhat.getRow(row))).as("xhat of constant row %d", row).isLessThanOrEqualTo(1e-6);
            assertThat(maxAbs(y.getRow(row).sub(beta))).as("y − beta of constant row %d", row).isLessThanOrEqualTo(1e-6);
        }
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, m, d);
        INDArray dgamma = Nd4j.createUninitialized(DataType.FLOAT, d);
        INDArray dbeta = Nd4j.createUninitialized(DataType.FLOAT, d);
        k.layerNormBackward(gaussian(r, 1, m, d), xhat, rstd, gamma, dx, false, dgamma, dbeta);
        assertThat(allFinite(dx) && allFinite(dgamma) && allFinite(dbeta)).as("finite gradients").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void layerNormBackwardMatchesReference(Kernels k) {
        for (int[] md : ROWS_BY_DIM) {
            int m = md[0];
            int d = md[1];
            Random r = new Random(23 + m);
            float[] x = floats(gaussian(r, 2, m, d));
            float[] gamma = floats(gaussian(r, 1, d));
            LayerNormReference fwd = new LayerNormReference(x, gamma, new float[d], 1e-6, m, d);
            INDArray xhat = Nd4j.create(toFloat(fwd.xhat), new long[] {m, d});
            INDArray rstd = Nd4j.create(toFloat(fwd.rstd), new long[] {m});
            float[] xh = floats(xhat);
            float[] rs = floats(rstd);
            INDArray dy = gaussian(r, 1, m, d);
            float[] g = floats(dy);
            double[] dx = new double[m * d];
            double[] dgamma = new double[d];
            double[] dbeta = new double[d];
            for (int i = 0; i < m; i++) {
                double meanG = 0;
                double meanGX = 0;
                for (int j = 0; j < d; j++) {
                    double gj = (double) g[i * d + j] * gamma[j];
                    meanG += gj / d;
                    meanGX += gj * xh[i * d + j] / d;
                    dgamma[j] += (double) g[i * d + j] * xh[i * d + j];
                    dbeta[j] += g[i * d + j];
                }
                for (int j = 0; j < d; j++) {
                    dx[i * d + j] = rs[i] * ((double) g[i * d + j] * gamma[j] - meanG - xh[i * d + j] * meanGX);
                }
            }
            INDArray gammaArr = Nd4j.create(gamma, new long[] {d});
            INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, d);
            INDArray dg = Nd4j.createUninitialized(DataType.FLOAT, d);
            INDArray db = Nd4j.createUninitialized(DataType.FLOAT, d);
            k.layerNormBackward(dy, xhat, rstd, gammaArr, out, false, dg, db);
            assertClose("dx " + m, out, dx);
            assertClose("dgamma " + m, dg, dgamma);
            assertClose("dbeta " + m, db, dbeta);

            INDArray previous = gaussian(r, 1, m, d);
            double[] accumulated = plus(floats(previous), dx);
            k.layerNormBackward(dy, xhat, rstd, gammaArr, previous, true, dg.assign(Float.NaN), db.assign(Float.NaN));
            assertClose("dx accumulated " + m, previous, accumulated);
            assertClose("dgamma overwritten " + m, dg, dgamma);
            assertClose("dbeta overwritten " + m, db, dbeta);
        }
    }

    /** The backward formula itself, against central differences of Σ w ⊙ LayerNorm(x) computed in double. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void layerNormBackwardEqualsFiniteDifferences(Kernels k) {
        int m = 3;
        int d = 5;
        double eps = 1e-3;
        Random r = new Random(5);
        INDArray x = gaussian(r, 1, m, d);
        INDArray gamma = gaussian(r, 1, d);
        INDArray beta = gaussian(r, 1, d);
        INDArray w = gaussian(r, 1, m, d);
        INDArray xhat = Nd4j.createUninitialized(DataType.FLOAT, m, d);
        INDArray rstd = Nd4j.createUninitialized(DataType.FLOAT, m);
        k.layerNorm(x, gamma, beta, eps, xhat, rstd, Nd4j.createUninitialized(DataType.FLOAT, m, d));
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, m, d);
        INDArray dgamma = Nd4j.createUninitialized(DataType.FLOAT, d);
        INDArray dbeta = Nd4j.createUninitialized(DataType.FLOAT, d);
        k.layerNormBackward(w, xhat, rstd, gamma, dx, false, dgamma, dbeta);

        double[][] params = {toDouble(floats(x)), toDouble(floats(gamma)), toDouble(floats(beta))};
        double[] weights = toDouble(floats(w));
        INDArray[] analytic = {dx, dgamma, dbeta};
        for (int p = 0; p < 3; p++) {
            double[] numeric = new double[params[p].length];
            for (int i = 0; i < numeric.length; i++) {
                double saved = params[p][i];
                double h = 1e-6;
                params[p][i] = saved + h;
                double up = weightedLayerNorm(params, weights, eps, m, d);
                params[p][i] = saved - h;
                double down = weightedLayerNorm(params, weights, eps, m, d);
                params[p][i] = saved;
                numeric[i] = (up - down) / (2 * h);
            }
            assertClose("finite differences, parameter " + p, analytic[p], numeric);
        }
    }

    private static double weightedLayerNorm(double[][] params, double[] w, double eps, int m, int d) {
        double[] x = params[0];
        double loss = 0;
        for (int i = 0; i < m; i++) {
            double mean = 0;
            for (int j = 0; j < d; j++) {
                mean += x[i * d + j] / d;
            }
            double var = 0;
            for (int j = 0; j < d; j++) {
                var += (x[i * d + j] - mean) * (x[i * d + j] - mean) / d;
            }
            for (int j = 0; j < d; j++) {
                double y = (x[i * d + j] - mean) / Math.sqrt(var + eps) * params[1][j] + params[2][j];
                loss += w[i * d + j] * y;
            }
        }
        return loss;
    }

    // ---------------------------------------------------------------- GELU

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void geluAndBackwardMatchReference(Kernels k) {
        for (int[] md : ROWS_BY_DIM) {
            Random r = new Random(31 + md[0]);
            INDArray x = gaussian(r, 2.5, md);
            INDArray dy = gaussian(r, 1, md);
            float[] xs = floats(x);
            float[] g = floats(dy);
            double[] y = new double[xs.length];
            double[] dx = new double[xs.length];
            for (int i = 0; i < xs.length; i++) {
                y[i] = xs[i] * ReferenceMath.normalCdf(xs[i]);
                dx[i] = g[i] * (ReferenceMath.normalCdf(xs[i]) + xs[i] * ReferenceMath.normalDensity(xs[i]));
            }
            INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
            k.gelu(x, out);
            assertClose("gelu " + md[0], out, y);
            INDArray grad = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
            k.geluBackward(x, dy, grad);
            assertClose("gelu backward " + md[0], grad, dx);

            k.geluBackward(x, dy, dy);
            assertClose("gelu backward in place " + md[0], dy, dx);
            k.gelu(x, x);
            assertClose("gelu in place " + md[0], x, y);
        }
    }

    /** Element by element over [−12, 12] and at extremes, where a relative-to-the-maximum check would hide errors. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void geluIsAccurateAcrossTheRange(Kernels k) {
        float[] xs = new float[24_001 + 6];
        for (int i = 0; i <= 24_000; i++) {
            xs[i] = -12f + i * 0.001f;
        }
        float[] extremes = {1e4f, -1e4f, 3e38f, -3e38f, 1e-30f, -1e-30f};
        System.arraycopy(extremes, 0, xs, 24_001, extremes.length);
        INDArray x = Nd4j.create(xs, new long[] {xs.length});
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, xs.length);
        INDArray slope = Nd4j.createUninitialized(DataType.FLOAT, xs.length);
        k.gelu(x, y);
        k.geluBackward(x, Nd4j.ones(DataType.FLOAT, xs.length), slope);
        float[] ys = floats(y);
        float[] ss = floats(slope);
        for (int i = 0; i < xs.length; i++) {
            double cdf = ReferenceMath.normalCdf(xs[i]);
            double expected = xs[i] * cdf;
            double expectedSlope = cdf + xs[i] * ReferenceMath.normalDensity(xs[i]);
            assertThat(Math.abs(ys[i] - expected)).as("gelu(%s)", xs[i])
                    .isLessThanOrEqualTo(4e-7 * Math.max(1, Math.abs(expected)));
            assertThat(Math.abs(ss[i] - expectedSlope)).as("gelu'(%s)", xs[i])
                    .isLessThanOrEqualTo(4e-7 * Math.max(1, Math.abs(expectedSlope)));
        }
    }

    // ---------------------------------------------------------------- softmax

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void softmaxAndBackwardMatchReference(Kernels k) {
        long[][] shapes = {{6, 5, 7}, {48, 197, 197}};
        for (long[] shape : shapes) {
            for (long biasGroups : new long[] {0, 1, 3}) {
                Random r = new Random(41 + shape[0] + biasGroups);
                INDArray s = gaussian(r, 3, shape);
                INDArray bias = biasGroups == 0 ? null : gaussian(r, 1, biasGroups, shape[1], shape[2]);
                String what = Arrays.toString(shape) + " Gb=" + biasGroups;
                double[] y = softmaxReference(floats(s), 0.125, bias == null ? null : floats(bias), shape);
                INDArray out = Nd4j.createUninitialized(DataType.FLOAT, shape);
                k.softmax(s, 0.125, bias, out);
                assertClose("softmax " + what, out, y);

                INDArray dy = gaussian(r, 1, shape);
                double[] dx = softmaxBackwardReference(floats(out), floats(dy), 0.125, (int) shape[2]);
                INDArray grad = Nd4j.createUninitialized(DataType.FLOAT, shape);
                k.softmaxBackward(out, dy, 0.125, grad);
                assertClose("softmax backward " + what, grad, dx);
                k.softmaxBackward(out, dy, 0.125, dy);
                assertClose("softmax backward in place " + what, dy, dx);

                k.softmax(s, 0.125, bias, s);
                assertClose("softmax in place " + what, s, y);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void softmaxIsStableForLargeLogits(Kernels k) {
        long[] shape = {2, 9, 33};
        Random r = new Random(43);
        float[] logits = new float[2 * 9 * 33];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) ((r.nextDouble() * 2 - 1) * 1e4);
        }
        INDArray s = Nd4j.create(logits, shape);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, shape);
        k.softmax(s, 1, null, y);
        assertClose("softmax of ±1e4", y, softmaxReference(logits, 1, null, shape));
    }

    /** A window mask: single −∞ entries, and one row masked entirely, which gives zeros forward and backward. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void softmaxWithMaskedEntriesAndRows(Kernels k) {
        long[] shape = {6, 5, 7};
        Random r = new Random(47);
        INDArray s = gaussian(r, 2, shape);
        INDArray bias = gaussian(r, 1, 3, 5, 7);
        bias.putScalar(new long[] {1, 2, 3}, Float.NEGATIVE_INFINITY);
        bias.putScalar(new long[] {0, 0, 6}, Float.NEGATIVE_INFINITY);
        bias.get(interval(2, 3), interval(4, 5), all()).assign(Float.NEGATIVE_INFINITY);
        double[] expected = softmaxReference(floats(s), 0.5, floats(bias), shape);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, shape);
        k.softmax(s, 0.5, bias, y);
        assertClose("masked softmax", y, expected);
        for (int g : new int[] {2, 5}) {
            assertThat(maxAbs(y.get(interval(g, g + 1), interval(4, 5), all()))).as("masked row of group %d", g)
                    .isZero();
        }
        assertThat(y.getFloat(1, 2, 3)).isZero();
        assertThat(y.getFloat(4, 2, 3)).isZero();

        INDArray dy = gaussian(r, 1, shape);
        INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, shape);
        k.softmaxBackward(y, dy, 0.5, dx);
        assertClose("masked softmax backward", dx, softmaxBackwardReference(floats(y), floats(dy), 0.5, 7));
        assertThat(maxAbs(dx.get(interval(5, 6), interval(4, 5), all()))).as("gradient of the masked row").isZero();
    }

    private static double[] softmaxReference(float[] s, double scale, float[] bias, long[] shape) {
        int rowsPerGroup = (int) shape[1];
        int c = (int) shape[2];
        int biasGroups = bias == null ? 1 : bias.length / (rowsPerGroup * c);
        double[] y = new double[s.length];
        for (int row = 0; row < s.length / c; row++) {
            int biasRow = (row / rowsPerGroup) % biasGroups * rowsPerGroup + row % rowsPerGroup;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                y[row * c + j] = scale * s[row * c + j] + (bias == null ? 0 : bias[biasRow * c + j]);
                max = Math.max(max, y[row * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                y[row * c + j] = max == Double.NEGATIVE_INFINITY ? 0 : Math.exp(y[row * c + j] - max);
                sum += y[row * c + j];
            }
            for (int j = 0; j < c; j++) {
                y[row * c + j] = sum == 0 ? 0 : y[row * c + j] / sum;
            }
        }
        return y;
    }

    private static double[] softmaxBackwardReference(float[] y, float[] dy, double scale, int c) {
        double[] dx = new double[y.length];
        for (int row = 0; row < y.length / c; row++) {
            double dot = 0;
            for (int j = 0; j < c; j++) {
                dot += (double) dy[row * c + j] * y[row * c + j];
            }
            for (int j = 0; j < c; j++) {
                dx[row * c + j] = scale * y[row * c + j] * (dy[row * c + j] - dot);
            }
        }
        return dx;
    }

    // ---------------------------------------------------------------- row vectors, sums, residuals, distance

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void addRowVectorBroadcastsOverRows(Kernels k) {
        long[][][] cases = {{{4, 37, 19}, {19}}, {{4, 37, 19}, {37, 19}}, {{16 * 197, 192}, {192}}};
        for (long[][] c : cases) {
            Random r = new Random(53 + c[1].length);
            INDArray y = gaussian(r, 1, c[0]);
            INDArray v = gaussian(r, 1, c[1]);
            float[] ys = floats(y);
            float[] vs = floats(v);
            double[] expected = new double[ys.length];
            for (int i = 0; i < ys.length; i++) {
                expected[i] = (double) ys[i] + vs[i % vs.length];
            }
            k.addRowVector(y, v);
            assertClose("addRowVector " + Arrays.toString(c[0]) + " + " + Arrays.toString(c[1]), y, expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void setRowsRepeatsTheVectorOverEveryRow(Kernels k) {
        long[][][] cases = {{{4, 37, 19}, {19}}, {{4, 37, 19}, {37, 19}}, {{16 * 197, 192}, {192}}};
        for (long[][] c : cases) {
            Random r = new Random(57 + c[1].length);
            INDArray y = Nd4j.valueArrayOf(c[0], Float.NaN, DataType.FLOAT);
            INDArray v = gaussian(r, 1, c[1]);
            float[] vs = floats(v);
            double[] expected = new double[(int) y.length()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = vs[i % vs.length];
            }
            k.setRows(y, v);
            assertClose("setRows " + Arrays.toString(c[0]) + " ← " + Arrays.toString(c[1]), y, expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void columnSumsOverwriteOrAccumulate(Kernels k) {
        long[][][] cases = {{{4, 37, 19}, {37, 19}}, {{16 * 197, 192}, {192}}};
        for (long[][] c : cases) {
            Random r = new Random(59 + c[1].length);
            INDArray x = gaussian(r, 1, c[0]);
            float[] xs = floats(x);
            int d = (int) Arrays.stream(c[1]).reduce(1, (a, b) -> a * b);
            double[] sums = new double[d];
            for (int i = 0; i < xs.length; i++) {
                sums[i % d] += xs[i];
            }
            INDArray out = Nd4j.valueArrayOf(c[1], Float.NaN, DataType.FLOAT);
            k.columnSums(x, out, false);
            assertClose("columnSums " + Arrays.toString(c[0]), out, sums);
            INDArray previous = gaussian(r, 1, c[1]);
            double[] expected = plus(floats(previous), sums);
            k.columnSums(x, previous, true);
            assertClose("columnSums accumulated " + Arrays.toString(c[0]), previous, expected);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void addIsElementWise(Kernels k) {
        for (int[] md : ROWS_BY_DIM) {
            Random r = new Random(61 + md[0]);
            INDArray y = gaussian(r, 1, md);
            INDArray x = gaussian(r, 1, md);
            double[] expected = plus(floats(y), toDouble(floats(x)));
            k.add(y, x);
            assertClose("add " + md[0], y, expected);
        }
    }

    /** A block of whole rows is a contiguous view that starts at an offset: its first element is not the buffer's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void contiguousRowBlocksOfBiggerArrays(Kernels k) {
        Random r = new Random(67);
        INDArray big = gaussian(r, 1, 50, 19);
        INDArray y = big.get(interval(7, 44), all());
        INDArray x = gaussian(r, 1, 80, 19).get(interval(20, 57), all());
        float[] before = floats(big);
        double[] expected = plus(floats(y), toDouble(floats(x)));
        k.add(y, x);
        assertClose("add on row blocks", y, expected);
        float[] after = floats(big);
        assertThat(Arrays.copyOfRange(after, 0, 7 * 19)).containsExactly(Arrays.copyOfRange(before, 0, 7 * 19));
        assertThat(Arrays.copyOfRange(after, 44 * 19, 50 * 19)).containsExactly(Arrays.copyOfRange(before, 44 * 19, 50 * 19));

        INDArray xhat = Nd4j.createUninitialized(DataType.FLOAT, 37, 19);
        INDArray rstd = Nd4j.createUninitialized(DataType.FLOAT, 37);
        INDArray out = Nd4j.zeros(DataType.FLOAT, 40, 19).get(interval(3, 40), all());
        INDArray gamma = gaussian(r, 1, 19);
        INDArray beta = gaussian(r, 1, 19);
        k.layerNorm(x, gamma, beta, 1e-6, xhat, rstd, out);
        LayerNormReference ref = new LayerNormReference(floats(x), floats(gamma), floats(beta), 1e-6, 37, 19);
        assertClose("layerNorm on row blocks", out, ref.y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void squaredDistanceAndItsGradient(Kernels k) {
        for (int[] md : ROWS_BY_DIM) {
            Random r = new Random(71 + md[0]);
            INDArray a = gaussian(r, 1, md);
            INDArray b = gaussian(r, 1, md);
            float[] as = floats(a);
            float[] bs = floats(b);
            double sum = 0;
            double[] grad = new double[as.length];
            for (int i = 0; i < as.length; i++) {
                double d = (double) as[i] - bs[i];
                sum += d * d;
                grad[i] = 0.25 * d;
            }
            assertThat(k.squaredDistance(a, b, 0.25, null, false)).isCloseTo(sum, org.assertj.core.data.Percentage
                    .withPercentage(1e-4));
            INDArray g = Nd4j.valueArrayOf(a.shape(), Float.NaN, DataType.FLOAT);
            assertThat(k.squaredDistance(a, b, 0.25, g, false)).isCloseTo(sum, org.assertj.core.data.Percentage
                    .withPercentage(1e-4));
            assertClose("distance gradient " + md[0], g, grad);
            INDArray previous = gaussian(r, 1, md);
            double[] expected = plus(floats(previous), grad);
            k.squaredDistance(a, b, 0.25, previous, true);
            assertClose("distance gradient accumulated " + md[0], previous, expected);
        }
    }

    // ---------------------------------------------------------------- gemm

    /** op(a)·op(b) on blocks of bigger matrices, into a block of a bigger c whose other entries must not change. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void gemmOnStridedViewsForEveryTransposeAndBeta(Kernels k) {
        int m = 37;
        int n = 23;
        int kk = 19;
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                for (double beta : new double[] {0, 1, 0.5}) {
                    for (boolean cIsView : new boolean[] {true, false}) {
                        Random r = new Random(79 + (transA ? 1 : 0) + (transB ? 2 : 0) + (int) (beta * 4));
                        INDArray a = block(r, transA ? kk : m, transA ? m : kk);
                        INDArray b = block(r, transB ? n : kk, transB ? kk : n);
                        INDArray cBig = gaussian(r, 1, m + 4, n + 10);
                        INDArray c = cIsView ? cBig.get(interval(2, m + 2), interval(5, n + 5)) : gaussian(r, 1, m, n);
                        if (beta == 0) {
                            c.assign(Float.NaN); // BLAS semantics: c is not read when beta = 0
                        }
                        float[] bigBefore = floats(cBig);
                        double[] expected = gemmReference(a, transA, b, transB, c, 0.7, beta);
                        k.gemm(a, transA, b, transB, c, 0.7, beta);
                        String what = "gemm transA=" + transA + " transB=" + transB + " beta=" + beta + " view=" + cIsView;
                        assertClose(what, c, expected);
                        if (cIsView) {
                            assertOutsideUnchanged(what, bigBefore, floats(cBig), n + 10, 2, m + 2, 5, n + 5);
                        }
                    }
                }
            }
        }
    }

    /** deit_tiny's attention for one head: heads are column blocks of qkv [197, 576], output a block of [197, 192]. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("implementations")
    void gemmOnAttentionHeads(Kernels k) {
        Random r = new Random(83);
        INDArray qkv = gaussian(r, 1, 197, 576);
        INDArray q = qkv.get(all(), interval(64, 128));
        INDArray key = qkv.get(all(), interval(256, 320));
        INDArray v = qkv.get(all(), interval(448, 512));
        INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, 197, 197);
        double[] expectedScores = gemmReference(q, false, key, true, scores, 0.125, 0);
        k.gemm(q, false, key, true, scores, 0.125, 0);
        assertClose("q·kᵀ", scores, expectedScores);

        INDArray out = gaussian(r, 1, 197, 192);
        INDArray head = out.get(all(), interval(64, 128));
        float[] before = floats(out);
        double[] expected = gemmReference(scores, false, v, false, head, 1, 0);
        k.gemm(scores, false, v, false, head, 1, 0);
        assertClose("attention·v", head, expected);
        assertOutsideUnchanged("attention output", before, floats(out), 192, 0, 197, 64, 128);
    }

    private static INDArray block(Random r, int rows, int cols) {
        return gaussian(r, 1, rows + 5, cols + 7).get(interval(2, rows + 2), interval(3, cols + 3));
    }

    private static double[] gemmReference(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c,
            double alpha, double beta) {
        double[][] opA = matrix(a, transA);
        double[][] opB = matrix(b, transB);
        double[][] old = matrix(c, false);
        int m = opA.length;
        int n = opB[0].length;
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < opB.length; p++) {
                    s += opA[i][p] * opB[p][j];
                }
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * old[i][j]);
            }
        }
        return out;
    }

    private static double[][] matrix(INDArray a, boolean transpose) {
        int rows = (int) a.size(0);
        int cols = (int) a.size(1);
        float[] v = floats(a);
        double[][] out = transpose ? new double[cols][rows] : new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                if (transpose) {
                    out[j][i] = v[i * cols + j];
                } else {
                    out[i][j] = v[i * cols + j];
                }
            }
        }
        return out;
    }

    private static void assertOutsideUnchanged(String what, float[] before, float[] after, int cols, int rowFrom,
            int rowTo, int colFrom, int colTo) {
        for (int i = 0; i < before.length; i++) {
            int row = i / cols;
            int col = i % cols;
            boolean inside = row >= rowFrom && row < rowTo && col >= colFrom && col < colTo;
            if (!inside) {
                assertThat(after[i]).as("%s: entry (%d, %d) outside the output block", what, row, col)
                        .isEqualTo(before[i]);
            }
        }
    }

    // ---------------------------------------------------------------- choice of implementation

    @Test
    void forBackendIsCpuKernelsOnTheCpuBackend() {
        String expected = KernelsChoice.cpuBackend() ? CPU_KERNELS : PortableKernels.class.getName();
        if (System.getProperty(Kernels.PROPERTY, "").equals("portable")) {
            expected = PortableKernels.class.getName();
        }
        assertThat(Kernels.forBackend().getClass().getName()).isEqualTo(expected);
        assertThat(Kernels.forBackend()).isSameAs(Kernels.forBackend());
    }

    @Test
    void propertyOverridesTheBackendsDefault() {
        assertThat(KernelsChoice.choose("", false)).isInstanceOf(PortableKernels.class);
        assertThat(KernelsChoice.choose("portable", true)).isInstanceOf(PortableKernels.class);
        assertThatThrownBy(() -> KernelsChoice.choose("gpu", true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Kernels.PROPERTY);
        if (KernelsChoice.cpuBackend()) {
            assertThat(KernelsChoice.choose("", true).getClass().getName()).isEqualTo(CPU_KERNELS);
            assertThat(KernelsChoice.choose("cpu", false).getClass().getName()).isEqualTo(CPU_KERNELS);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** LayerNorm in double: mean, population variance, rstd, xhat, y. */
    private static final class LayerNormReference {
        final double[] xhat;
        final double[] rstd;
        final double[] y;

        LayerNormReference(float[] x, float[] gamma, float[] beta, double eps, int m, int d) {
            xhat = new double[m * d];
            rstd = new double[m];
            y = new double[m * d];
            for (int i = 0; i < m; i++) {
                double mean = 0;
                for (int j = 0; j < d; j++) {
                    mean += x[i * d + j];
                }
                mean /= d;
                double var = 0;
                for (int j = 0; j < d; j++) {
                    var += (x[i * d + j] - mean) * (x[i * d + j] - mean);
                }
                rstd[i] = 1 / Math.sqrt(var / d + eps);
                for (int j = 0; j < d; j++) {
                    xhat[i * d + j] = (x[i * d + j] - mean) * rstd[i];
                    y[i * d + j] = xhat[i * d + j] * gamma[j] + beta[j];
                }
            }
        }
    }

    private static INDArray gaussian(Random r, double sd, int... shape) {
        return gaussian(r, sd, Arrays.stream(shape).asLongStream().toArray());
    }

    private static INDArray gaussian(Random r, double sd, long... shape) {
        float[] v = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * sd);
        }
        return Nd4j.create(v, shape);
    }

    /** Row-major values of any array, views included. */
    private static float[] floats(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static float[] toFloat(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    private static double[] plus(float[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    private static double maxAbs(INDArray a) {
        double max = 0;
        for (float v : floats(a)) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private static boolean allFinite(INDArray a) {
        for (float v : floats(a)) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** max |actual − expected| / max |expected| ≤ TOLERANCE (NaN fails). */
    private static void assertClose(String what, INDArray actual, double[] expected) {
        float[] v = floats(actual);
        assertThat(v).as(what + ": length").hasSize(expected.length);
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < v.length; i++) {
            diff = Math.max(diff, Math.abs(v[i] - expected[i]));
            if (Double.isNaN(v[i]) != Double.isNaN(expected[i])) {
                diff = Double.NaN;
                break;
            }
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        assertThat(diff / Math.max(scale, 1e-30)).as(what + ": relative error").isLessThanOrEqualTo(TOLERANCE);
    }
}
