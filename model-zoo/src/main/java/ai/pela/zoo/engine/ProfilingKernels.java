package ai.pela.zoo.engine;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The engine's op profile: wraps the kernels and adds up each method's calls and wall time (and the matrix
 * products' floating-point operations), so a benchmark can say where a step's time goes. Chosen with system property
 * {@value #PROPERTY}{@code =true}; costs two clock reads per call.
 */
public final class ProfilingKernels implements Kernels {
    /** System property that turns the profile on. */
    public static final String PROPERTY = "pela.engine.profile";

    private final Kernels inner;
    private final Map<String, Entry> entries = new TreeMap<>();

    private static final class Entry {
        final LongAdder calls = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder flops = new LongAdder();
    }

    ProfilingKernels(Kernels inner) {
        this.inner = inner;
        for (String m : new String[] {"layerNorm", "layerNormBackward", "gelu", "geluBackward", "softmax",
                "softmaxBackward", "addRowVector", "setRows", "columnSums", "add", "squaredDistance", "gemm (attention)",
                "gemm (linear)", "attention", "attentionBackward"}) {
            entries.put(m, new Entry());
        }
    }

    /** The wrapped kernels' profile when profiling is on (see {@link Kernels#forBackend()}), else null. */
    public static ProfilingKernels active() {
        return Kernels.forBackend() instanceof ProfilingKernels p ? p : null;
    }

    private void record(String method, long t0, long flops) {
        Entry e = entries.get(method);
        e.calls.increment();
        e.nanos.add(System.nanoTime() - t0);
        e.flops.add(flops);
    }

    /** Forgets what was recorded so far (call after the warm-up). */
    public void reset() {
        entries.values().forEach(e -> {
            e.calls.reset();
            e.nanos.reset();
            e.flops.reset();
        });
    }

    /** A table of every method's calls, total seconds, seconds per {@code steps} and achieved GFLOP/s. */
    public String report(int steps) {
        StringBuilder sb = new StringBuilder(String.format("%-20s %8s %10s %10s %9s%n", "kernel", "calls/step",
                "s/step", "share", "GFLOP/s"));
        double total = entries.values().stream().mapToLong(e -> e.nanos.sum()).sum() / 1e9;
        entries.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().nanos.sum(), a.getValue().nanos.sum()))
                .forEach(en -> {
                    Entry e = en.getValue();
                    double s = e.nanos.sum() / 1e9;
                    sb.append(String.format("%-20s %8d %10.3f %9.1f%% %9s%n", en.getKey(), e.calls.sum() / Math.max(1, steps),
                            s / Math.max(1, steps), total > 0 ? 100 * s / total : 0,
                            e.flops.sum() > 0 ? String.format("%.1f", e.flops.sum() / 1e9 / s) : ""));
                });
        sb.append(String.format("%-20s %8s %10.3f%n", "all kernels", "", total / Math.max(1, steps)));
        return sb.toString();
    }

    @Override
    public void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray xhat, INDArray rstd, INDArray y) {
        long t0 = System.nanoTime();
        inner.layerNorm(x, gamma, beta, eps, xhat, rstd, y);
        record("layerNorm", t0, 0);
    }

    @Override
    public void layerNormBackward(INDArray dy, INDArray xhat, INDArray rstd, INDArray gamma, INDArray dx,
            boolean accumulate, INDArray dgamma, INDArray dbeta) {
        long t0 = System.nanoTime();
        inner.layerNormBackward(dy, xhat, rstd, gamma, dx, accumulate, dgamma, dbeta);
        record("layerNormBackward", t0, 0);
    }

    @Override
    public void gelu(INDArray x, INDArray y) {
        long t0 = System.nanoTime();
        inner.gelu(x, y);
        record("gelu", t0, 0);
    }

    @Override
    public void geluBackward(INDArray x, INDArray dy, INDArray dx) {
        long t0 = System.nanoTime();
        inner.geluBackward(x, dy, dx);
        record("geluBackward", t0, 0);
    }

    @Override
    public void softmax(INDArray s, double scale, INDArray bias, INDArray y) {
        long t0 = System.nanoTime();
        inner.softmax(s, scale, bias, y);
        record("softmax", t0, 0);
    }

    @Override
    public void softmaxBackward(INDArray y, INDArray dy, double scale, INDArray dx) {
        long t0 = System.nanoTime();
        inner.softmaxBackward(y, dy, scale, dx);
        record("softmaxBackward", t0, 0);
    }

    @Override
    public void addRowVector(INDArray y, INDArray v) {
        long t0 = System.nanoTime();
        inner.addRowVector(y, v);
        record("addRowVector", t0, 0);
    }

    @Override
    public void setRows(INDArray y, INDArray v) {
        long t0 = System.nanoTime();
        inner.setRows(y, v);
        record("setRows", t0, 0);
    }

    @Override
    public void columnSums(INDArray x, INDArray out, boolean accumulate) {
        long t0 = System.nanoTime();
        inner.columnSums(x, out, accumulate);
        record("columnSums", t0, 0);
    }

    @Override
    public void add(INDArray y, INDArray x) {
        long t0 = System.nanoTime();
        inner.add(y, x);
        record("add", t0, 0);
    }

    @Override
    public double squaredDistance(INDArray a, INDArray b, double gradScale, INDArray grad, boolean accumulate) {
        long t0 = System.nanoTime();
        double r = inner.squaredDistance(a, b, gradScale, grad, accumulate);
        record("squaredDistance", t0, 0);
        return r;
    }

    @Override
    public void pass(Runnable work) {
        inner.pass(work);
    }

    @Override
    public void attention(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray bias, INDArray probs,
            INDArray[] probRows, INDArray[] o) {
        long t0 = System.nanoTime();
        inner.attention(q, k, v, scale, bias, probs, probRows, o);
        record("attention", t0, 4L * q.length * q[0].size(0) * k[0].size(0) * q[0].size(1));
    }

    @Override
    public void attentionBackward(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray probs,
            INDArray[] probRows, INDArray[] dO, INDArray dProbs, INDArray[] dProbRows, INDArray[] dQ, INDArray[] dK,
            INDArray[] dV) {
        long t0 = System.nanoTime();
        inner.attentionBackward(q, k, v, scale, probs, probRows, dO, dProbs, dProbRows, dQ, dK, dV);
        record("attentionBackward", t0, 8L * q.length * q[0].size(0) * k[0].size(0) * q[0].size(1));
    }

    /** Products of two views (attention heads) and the rest (Linears, their gradients) are reported apart. */
    @Override
    public void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        long t0 = System.nanoTime();
        inner.gemm(a, transA, b, transB, c, alpha, beta);
        long k = transA ? a.size(0) : a.size(1);
        record(a.isView() && b.isView() ? "gemm (attention)" : "gemm (linear)", t0, 2L * c.size(0) * c.size(1) * k);
    }
}
