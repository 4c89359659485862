package ai.pela.zoo.engine.cpu;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import ai.pela.zoo.engine.Kernels;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link Kernels} for the CPU backend (nd4j-native): plain Java loops over ND4J's host buffers, one pass per row
 * where the math allows, rows split across a shared thread pool for large arrays ({@link Rows}); gemm calls
 * OpenBLAS's {@code cblas_sgemm} directly (the library libnd4j itself calls), about 0.14 µs of overhead per call
 * instead of {@code Nd4j.gemm}'s ~23 µs, and on strided views without copies.
 *
 * <p>Row statistics (LayerNorm's mean and variance, softmax's sum, the dot products of the backwards) are
 * accumulated in double, so a constant row gives exactly xhat = 0. GELU reads Φ from {@link GeluTables} (cubic pieces
 * built from Cody's erf, error ~1e-9), 5–7× faster than evaluating Cody's approximation per element. The
 * element-wise loops over FloatBuffers are not vectorised by C2 (nor were sun.misc.Unsafe ones, measured equally
 * fast), so {@code add} and {@code addRowVector} run at ~0.25 ms on [3152, 192], some 2–3× ND4J's native loops on
 * an idle machine but steady when the cores are shared (ND4J's OpenMP loops then took 8–9 ms). The CUDA build ({@code -Pcuda}) leaves this
 * package out; {@link Kernels#forBackend()} loads the class by name.
 */
public final class CpuKernels implements Kernels {
    public CpuKernels() {
        // Stateless; the thread pool is shared by all instances.
    }

    @Override
    public void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray xhat, INDArray rstd,
            INDArray y) {
        int d = lastDim(x, "x");
        int m = rows(x, d);
        FloatBuffer xb = HostFloats.of(x, "x");
        FloatBuffer hb = sameLength(xhat, "xhat", x);
        FloatBuffer yb = sameLength(y, "y", x);
        FloatBuffer rb = withLength(rstd, "rstd", m);
        float[] g = parameter(gamma, "gamma", d);
        float[] b = parameter(beta, "beta", d);
        Rows.run(m, d, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                layerNormRow(xb, g, b, eps, hb, rb, yb, r, d);
            }
        });
    }

    private static void layerNormRow(FloatBuffer x, float[] gamma, float[] beta, double eps, FloatBuffer xhat,
            FloatBuffer rstd, FloatBuffer y, int r, int d) {
        int base = r * d;
        double mean = sum(x, base, d) / d;
        double var = squaredDeviations(x, base, d, mean) / d;
        double rs = 1 / Math.sqrt(var + eps);
        for (int j = 0; j < d; j++) {
            float h = (float) ((x.get(base + j) - mean) * rs);
            xhat.put(base + j, h);
            y.put(base + j, h * gamma[j] + beta[j]);
        }
        rstd.put(r, (float) rs);
    }

    @Override
    public void layerNormBackward(INDArray dy, INDArray xhat, INDArray rstd, INDArray gamma, INDArray dx,
            boolean accumulate, INDArray dgamma, INDArray dbeta) {
        int d = lastDim(dy, "dy");
        int m = rows(dy, d);
        FloatBuffer dyb = HostFloats.of(dy, "dy");
        FloatBuffer hb = sameLength(xhat, "xhat", dy);
        FloatBuffer dxb = sameLength(dx, "dx", dy);
        FloatBuffer rb = withLength(rstd, "rstd", m);
        float[] g = parameter(gamma, "gamma", d);
        FloatBuffer dgb = withLength(dgamma, "dgamma", d);
        FloatBuffer dbb = withLength(dbeta, "dbeta", d);
        int chunks = Rows.chunks(m, d);
        float[][] dgammaParts = new float[chunks][d];
        float[][] dbetaParts = new float[chunks][d];
        Rows.run(m, d, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                layerNormBackwardRow(dyb, hb, rb, g, dxb, accumulate, r, d);
                addProducts(dyb, hb, r * d, dgammaParts[chunk], dbetaParts[chunk]);
            }
        });
        writeSums(dgammaParts, dgb, false);
        writeSums(dbetaParts, dbb, false);
    }

    private static void layerNormBackwardRow(FloatBuffer dy, FloatBuffer xhat, FloatBuffer rstd, float[] gamma,
            FloatBuffer dx, boolean accumulate, int r, int d) {
        int base = r * d;
        double sumG = 0;
        double sumGX = 0;
        for (int j = 0; j < d; j++) {
            float g = dy.get(base + j) * gamma[j];
            sumG += g;
            sumGX += g * xhat.get(base + j);
        }
        float meanG = (float) (sumG / d);
        float meanGX = (float) (sumGX / d);
        float rs = rstd.get(r);
        for (int j = 0; j < d; j++) {
            int i = base + j;
            float v = rs * (dy.get(i) * gamma[j] - meanG - xhat.get(i) * meanGX);
            dx.put(i, accumulate ? dx.get(i) + v : v);
        }
    }

    /** dgamma += dy·xhat and dbeta += dy for one row (a chunk's partial sums). */
    private static void addProducts(FloatBuffer dy, FloatBuffer xhat, int base, float[] dgamma, float[] dbeta) {
        for (int j = 0; j < dgamma.length; j++) {
            float g = dy.get(base + j);
            dgamma[j] += g * xhat.get(base + j);
            dbeta[j] += g;
        }
    }

    @Override
    public void gelu(INDArray x, INDArray y) {
        FloatBuffer xb = HostFloats.of(x, "x");
        FloatBuffer yb = sameLength(y, "y", x);
        Rows.run(length(x), 1, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                double v = xb.get(i);
                yb.put(i, (float) (v * GeluTables.normalCdf(v)));
            }
        });
    }

    @Override
    public void geluBackward(INDArray x, INDArray dy, INDArray dx) {
        FloatBuffer xb = HostFloats.of(x, "x");
        FloatBuffer dyb = sameLength(dy, "dy", x);
        FloatBuffer dxb = sameLength(dx, "dx", x);
        Rows.run(length(x), 1, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                dxb.put(i, (float) (dyb.get(i) * GeluTables.geluSlope(xb.get(i))));
            }
        });
    }

    @Override
    public void softmax(INDArray s, double scale, INDArray bias, INDArray y) {
        int c = lastDim(s, "s");
        int rows = rows(s, c);
        FloatBuffer sb = HostFloats.of(s, "s");
        FloatBuffer yb = sameLength(y, "y", s);
        float fs = (float) scale;
        if (bias == null) {
            Rows.run(rows, c, (chunk, from, to) -> {
                for (int r = from; r < to; r++) {
                    softmaxRow(sb, fs, null, 0, yb, r * c, c);
                }
            });
            return;
        }
        int rowsPerGroup = checkBias(s, bias);
        int biasGroups = (int) bias.size(0);
        FloatBuffer bb = HostFloats.of(bias, "bias");
        Rows.run(rows, c, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                int group = r / rowsPerGroup;
                int biasRow = group % biasGroups * rowsPerGroup + r % rowsPerGroup;
                softmaxRow(sb, fs, bb, biasRow * c, yb, r * c, c);
            }
        });
    }

    /** One thread's softmax row scratch: the row in float (bulk-copied from and to native memory) and in double. */
    private static final class RowScratch {
        float[] f = new float[256];
        float[] g = new float[256];
        double[] d = new double[256];

        RowScratch size(int c) {
            if (f.length < c) {
                f = new float[c];
                g = new float[c];
                d = new double[c];
            }
            return this;
        }
    }

    /**
     * Per-thread scratch. Rows are bulk-copied to heap arrays (a memcpy) and computed there: indexed FloatBuffer
     * access to native memory is bounds-checked and never vectorised, heap loops are.
     */
    private static final ThreadLocal<RowScratch> ROW = ThreadLocal.withInitial(RowScratch::new);

    /** One row: y = scale·s + bias, its maximum subtracted, exponentiated, normalised; all −∞ gives zeros. */
    private static void softmaxRow(FloatBuffer s, float scale, FloatBuffer bias, int biasBase, FloatBuffer y,
            int base, int c) {
        RowScratch r = ROW.get().size(c);
        float[] f = r.f;
        double[] v = r.d;
        s.get(base, f, 0, c);
        if (bias == null) {
            for (int j = 0; j < c; j++) {
                v[j] = (double) scale * f[j];
            }
        } else {
            bias.get(biasBase, r.g, 0, c);
            for (int j = 0; j < c; j++) {
                v[j] = (double) scale * f[j] + r.g[j];
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            max = Math.max(max, v[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(f, 0, c, 0f);
            y.put(base, f, 0, c);
            return;
        }
        for (int j = 0; j < c; j++) {
            v[j] -= max;
        }
        FastExp.expNonPositive(v, c);
        double sum = 0;
        for (int j = 0; j < c; j++) {
            sum += v[j];
        }
        double inv = 1 / sum;
        for (int j = 0; j < c; j++) {
            f[j] = (float) (v[j] * inv);
        }
        y.put(base, f, 0, c);
    }

    /** Checks bias [Gb, R, C] against s [G, R, C] (G a multiple of Gb); returns R. */
    private static int checkBias(INDArray s, INDArray bias) {
        if (s.rank() != 3 || bias.rank() != 3 || bias.size(1) != s.size(1) || bias.size(2) != s.size(2)
                || s.size(0) % bias.size(0) != 0) {
            throw new IllegalArgumentException("bias must be [Gb, R, C] with s [G, R, C] and G a multiple of Gb, got s "
                    + Arrays.toString(s.shape()) + " bias " + Arrays.toString(bias.shape()));
        }
        return (int) s.size(1);
    }

    @Override
    public void softmaxBackward(INDArray y, INDArray dy, double scale, INDArray dx) {
        int c = lastDim(y, "y");
        FloatBuffer yb = HostFloats.of(y, "y");
        FloatBuffer dyb = sameLength(dy, "dy", y);
        FloatBuffer dxb = sameLength(dx, "dx", y);
        float fs = (float) scale;
        Rows.run(rows(y, c), c, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                softmaxBackwardRow(yb, dyb, fs, dxb, r * c, c);
            }
        });
    }

    /** One row: dx = scale·y⊙(dy − Σ dy⊙y); dx may be dy. */
    private static void softmaxBackwardRow(FloatBuffer yb, FloatBuffer dyb, float fs, FloatBuffer dxb, int base, int c) {
        RowScratch r = ROW.get().size(c);
        float[] y = r.f;
        float[] dy = r.g;
        yb.get(base, y, 0, c);
        dyb.get(base, dy, 0, c);
        double dot = 0;
        for (int j = 0; j < c; j++) {
            dot += dy[j] * y[j];
        }
        float fd = (float) dot;
        for (int j = 0; j < c; j++) {
            dy[j] = fs * y[j] * (dy[j] - fd);
        }
        dxb.put(base, dy, 0, c);
    }

    @Override
    public void addRowVector(INDArray y, INDArray v) {
        int d = Math.toIntExact(v.length());
        FloatBuffer yb = HostFloats.of(y, "y");
        float[] vb = HostFloats.copy(v, "v");
        Rows.run(rowsOf(y, "y", d), d, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    yb.put(base + j, yb.get(base + j) + vb[j]);
                }
            }
        });
    }

    @Override
    public void setRows(INDArray y, INDArray v) {
        int d = Math.toIntExact(v.length());
        FloatBuffer yb = HostFloats.of(y, "y");
        float[] vb = HostFloats.copy(v, "v");
        Rows.run(rowsOf(y, "y", d), d, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                yb.put(r * d, vb, 0, d);
            }
        });
    }

    @Override
    public void columnSums(INDArray x, INDArray out, boolean accumulate) {
        int d = Math.toIntExact(out.length());
        FloatBuffer xb = HostFloats.of(x, "x");
        FloatBuffer ob = HostFloats.of(out, "out");
        int rows = rowsOf(x, "x", d);
        float[][] parts = new float[Rows.chunks(rows, d)][d];
        Rows.run(rows, d, (chunk, from, to) -> {
            float[] part = parts[chunk];
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    part[j] += xb.get(base + j);
                }
            }
        });
        writeSums(parts, ob, accumulate);
    }

    @Override
    public void add(INDArray y, INDArray x) {
        FloatBuffer yb = HostFloats.of(y, "y");
        FloatBuffer xb = sameLength(x, "x", y);
        Rows.run(length(y), 1, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                yb.put(i, yb.get(i) + xb.get(i));
            }
        });
    }

    @Override
    public double squaredDistance(INDArray a, INDArray b, double gradScale, INDArray grad, boolean accumulate) {
        FloatBuffer ab = HostFloats.of(a, "a");
        FloatBuffer bb = sameLength(b, "b", a);
        FloatBuffer gb = grad == null ? null : sameLength(grad, "grad", a);
        int n = length(a);
        double[] parts = new double[Rows.chunks(n, 1)];
        float fs = (float) gradScale;
        Rows.run(n, 1, (chunk, from, to) -> {
            parts[chunk] = squaredDistance(ab, bb, from, to);
            if (gb != null) {
                for (int i = from; i < to; i++) {
                    float v = fs * (ab.get(i) - bb.get(i));
                    gb.put(i, accumulate ? gb.get(i) + v : v);
                }
            }
        });
        double total = 0;
        for (double p : parts) {
            total += p;
        }
        return total;
    }

    /** Σ (a − b)² over [from, to) with four accumulators, so the adds do not wait on each other. */
    private static double squaredDistance(FloatBuffer a, FloatBuffer b, int from, int to) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            double d0 = (double) a.get(i) - b.get(i);
            double d1 = (double) a.get(i + 1) - b.get(i + 1);
            double d2 = (double) a.get(i + 2) - b.get(i + 2);
            double d3 = (double) a.get(i + 3) - b.get(i + 3);
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < to; i++) {
            double d = (double) a.get(i) - b.get(i);
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        Strided ma = Strided.of(a, "a");
        Strided mb = Strided.of(b, "b");
        Strided mc = Strided.of(c, "c");
        int m = transA ? ma.cols : ma.rows;
        int k = transA ? ma.rows : ma.cols;
        int n = transB ? mb.rows : mb.cols;
        int kb = transB ? mb.cols : mb.rows;
        if (k != kb || mc.rows != m || mc.cols != n) {
            throw new IllegalArgumentException("gemm shapes do not match: op(a) " + m + "x" + k + ", op(b) " + kb + "x"
                    + n + ", c " + mc.rows + "x" + mc.cols);
        }
        if (m == 0 || n == 0) {
            return;
        }
        FloatPointer pa = ma.pointer();
        FloatPointer pb = mb.pointer();
        FloatPointer pc = mc.pointer();
        // Split only inside a pass, where BLAS is single-threaded: otherwise OpenBLAS threads the product itself.
        int chunks = SPLIT_GEMMS && BlasThreads.active() ? Rows.chunks(m, (long) n * k / GEMM_SPLIT_ROW_WORK) : 1;
        if (chunks == 1) {
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k,
                    (float) alpha, pa, ma.ld, pb, mb.ld, (float) beta, pc, mc.ld);
            return;
        }
        // Row blocks of C from row blocks of op(A), each a single-threaded BLAS call on its own thread: our pool
        // parks between kernels, where OpenBLAS's own threads spin in sched_yield and take the cores from the
        // element-wise kernels that run in between.
        Rows.run(m, (long) n * k / GEMM_SPLIT_ROW_WORK, (chunk, from, to) -> {
            long aOffset = transA ? from : (long) from * ma.ld;
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    to - from, n, k, (float) alpha, new FloatPointer(pa).position(aOffset), ma.ld, pb, mb.ld,
                    (float) beta, new FloatPointer(pc).position((long) from * mc.ld), mc.ld);
        });
    }

    @Override
    public void pass(Runnable work) {
        BlasThreads.singleThreaded(work);
    }

    /**
     * Whether large products are split over the kernel pool by row blocks (each block single-threaded BLAS) instead
     * of handed whole to OpenBLAS's threads; system property {@code pela.engine.split-gemm}, default true.
     */
    private static final boolean SPLIT_GEMMS = Boolean.parseBoolean(System.getProperty("pela.engine.split-gemm", "true"));
    /** Scales a product's per-row work (n·k) to the pool's element count, so small products stay on one thread. */
    private static final long GEMM_SPLIT_ROW_WORK = 4;

    /**
     * Each group's q·kᵀ, softmax and P·v run together on one thread, so the group's [T, T] scores stay in cache
     * between the three steps; the groups are split across the pool, each thread's products single-threaded.
     */
    @Override
    public void attention(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray bias, INDArray probs,
            INDArray[] probRows, INDArray[] o) {
        int t = (int) probs.size(1);
        int c = lastDim(probs, "probs");
        FloatBuffer pb = HostFloats.of(probs, "probs");
        int rowsPerGroup = bias == null ? t : checkBias(probs, bias);
        int biasGroups = bias == null ? 1 : (int) bias.size(0);
        FloatBuffer bb = bias == null ? null : HostFloats.of(bias, "bias");
        float fs = (float) scale;
        BlasThreads.singleThreaded(() -> Rows.run(q.length, (long) t * c, (chunk, from, to) -> {
            for (int g = from; g < to; g++) {
                gemm(q[g], false, k[g], true, probRows[g], 1, 0);
                for (int r = 0; r < t; r++) {
                    int biasBase = bias == null ? 0 : ((g % biasGroups) * rowsPerGroup + r) * c;
                    softmaxRow(pb, fs, bb, biasBase, pb, (g * t + r) * c, c);
                }
                gemm(probRows[g], false, v[g], false, o[g], 1, 0);
            }
        }));
    }

    /** Per group, on one thread: dP and dV, the softmax gradient in place, then dQ and dK. */
    @Override
    public void attentionBackward(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray probs,
            INDArray[] probRows, INDArray[] dO, INDArray dProbs, INDArray[] dProbRows, INDArray[] dQ, INDArray[] dK,
            INDArray[] dV) {
        int t = (int) probs.size(1);
        int c = lastDim(probs, "probs");
        FloatBuffer pb = HostFloats.of(probs, "probs");
        FloatBuffer db = sameLength(dProbs, "dProbs", probs);
        float fs = (float) scale;
        BlasThreads.singleThreaded(() -> Rows.run(q.length, (long) t * c, (chunk, from, to) -> {
            for (int g = from; g < to; g++) {
                gemm(dO[g], false, v[g], true, dProbRows[g], 1, 0);
                gemm(probRows[g], true, dO[g], false, dV[g], 1, 0);
                for (int r = 0; r < t; r++) {
                    softmaxBackwardRow(pb, db, fs, db, (g * t + r) * c, c);
                }
                gemm(dProbRows[g], false, k[g], false, dQ[g], 1, 0);
                gemm(dProbRows[g], true, q[g], false, dK[g], 1, 0);
            }
        }));
    }

    /** A 2-D FLOAT matrix with unit stride along its rows: its size and BLAS leading dimension (the row stride). */
    private record Strided(INDArray array, int rows, int cols, int ld) {
        static Strided of(INDArray a, String name) {
            HostFloats.requireFloat(a, name);
            if (a.rank() != 2) {
                throw new IllegalArgumentException(name + " must be 2-D, got shape " + Arrays.toString(a.shape()));
            }
            int rows = Math.toIntExact(a.size(0));
            int cols = Math.toIntExact(a.size(1));
            if (cols > 1 && a.stride(1) != 1) {
                throw new IllegalArgumentException(name + " must have unit stride along its last axis (pass the "
                        + "transpose flag instead of a transposed view), got strides " + Arrays.toString(a.stride()));
            }
            // BLAS requires ld ≥ max(1, cols) even where the row stride is never used (a single row).
            long ld = rows > 1 ? a.stride(0) : Math.max(1, cols);
            if (ld < Math.max(1, cols)) {
                throw new IllegalArgumentException(name + " rows overlap: row stride " + ld + " < " + cols + " columns");
            }
            return new Strided(a, rows, cols, Math.toIntExact(ld));
        }

        FloatPointer pointer() {
            return new FloatPointer(array.data().addressPointer());
        }
    }

    private static double sum(FloatBuffer x, int base, int d) {
        double s0 = 0;
        double s1 = 0;
        int j = 0;
        for (; j + 1 < d; j += 2) {
            s0 += x.get(base + j);
            s1 += x.get(base + j + 1);
        }
        if (j < d) {
            s0 += x.get(base + j);
        }
        return s0 + s1;
    }

    private static double squaredDeviations(FloatBuffer x, int base, int d, double mean) {
        double s0 = 0;
        double s1 = 0;
        int j = 0;
        for (; j + 1 < d; j += 2) {
            double e0 = x.get(base + j) - mean;
            double e1 = x.get(base + j + 1) - mean;
            s0 += e0 * e0;
            s1 += e1 * e1;
        }
        if (j < d) {
            double e = x.get(base + j) - mean;
            s0 += e * e;
        }
        return s0 + s1;
    }

    /** out = Σ_chunks parts (or += when accumulate), summed in double. */
    private static void writeSums(float[][] parts, FloatBuffer out, boolean accumulate) {
        int d = out.capacity();
        for (int j = 0; j < d; j++) {
            double s = accumulate ? out.get(j) : 0;
            for (float[] part : parts) {
                s += part[j];
            }
            out.put(j, (float) s);
        }
    }

    private static int lastDim(INDArray a, String name) {
        HostFloats.requireFloat(a, name);
        if (a.rank() == 0 || a.length() == 0) {
            throw new IllegalArgumentException(name + " must be a non-empty array, got shape " + Arrays.toString(a.shape()));
        }
        return Math.toIntExact(a.size(a.rank() - 1));
    }

    private static int rows(INDArray a, int rowLength) {
        return Math.toIntExact(a.length() / rowLength);
    }

    private static int rowsOf(INDArray a, String name, int rowLength) {
        if (rowLength == 0 || a.length() % rowLength != 0) {
            throw new IllegalArgumentException(name + " of shape " + Arrays.toString(a.shape())
                    + " is not a whole number of rows of length " + rowLength);
        }
        return rows(a, rowLength);
    }

    private static int length(INDArray a) {
        return Math.toIntExact(a.length());
    }

    private static FloatBuffer sameLength(INDArray a, String name, INDArray like) {
        HostFloats.requireFloat(a, name);
        HostFloats.requireLength(a, name, like.length());
        return HostFloats.of(a, name);
    }

    private static FloatBuffer withLength(INDArray a, String name, long length) {
        HostFloats.requireFloat(a, name);
        HostFloats.requireLength(a, name, length);
        return HostFloats.of(a, name);
    }

    private static float[] parameter(INDArray a, String name, int length) {
        HostFloats.requireFloat(a, name);
        HostFloats.requireLength(a, name, length);
        return HostFloats.copy(a, name);
    }
}
