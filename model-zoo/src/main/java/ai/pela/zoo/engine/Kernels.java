package ai.pela.zoo.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The engine's fused kernels and its matrix product, on FLOAT arrays in C order. Two implementations:
 * {@code ai.pela.zoo.engine.cpu.CpuKernels} (Java loops over ND4J's host buffers, rows split across threads, BLAS
 * sgemm called directly on strided views) and {@link PortableKernels} (composed of ND4J ops, so it also runs on
 * nd4j-cuda). {@link #forBackend()} picks one.
 *
 * <p>Unless a method says otherwise its arrays are contiguous (not views with gaps) and are read as rows of the
 * last dimension; outputs are overwritten. Parameter gradients ({@code dgamma}, {@code dbeta}) are overwritten too:
 * in the engine every parameter is used exactly once per forward, so its gradient is written exactly once.
 */
public interface Kernels {

    /** System property that forces an implementation: {@code cpu} or {@code portable}. */
    String PROPERTY = "pela.engine.kernels";

    /**
     * Row-wise LayerNorm of {@code x} [M, D]: mean and population variance per row, {@code rstd = 1/sqrt(var + eps)},
     * {@code xhat = (x − mean)·rstd}, {@code y = xhat·gamma + beta}. Writes {@code xhat} [M, D] and {@code rstd} [M]
     * (kept for the backward) and {@code y} [M, D]. A constant row gives xhat = 0 and y = beta.
     */
    void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray xhat, INDArray rstd, INDArray y);

    /**
     * LayerNorm's backward from the forward's {@code xhat} and {@code rstd}: with {@code g = dy·gamma},
     * {@code dx = rstd·(g − mean_row(g) − xhat·mean_row(g·xhat))}, written into {@code dx} or added to it when
     * {@code accumulate}; {@code dgamma = Σ_rows dy·xhat}, {@code dbeta = Σ_rows dy} (both [D], overwritten).
     */
    void layerNormBackward(INDArray dy, INDArray xhat, INDArray rstd, INDArray gamma, INDArray dx, boolean accumulate,
            INDArray dgamma, INDArray dbeta);

    /** Exact GELU, {@code y = x·Φ(x) = 0.5·x·(1 + erf(x/√2))} (PyTorch's default, timm's). {@code y} may be {@code x}. */
    void gelu(INDArray x, INDArray y);

    /** {@code dx = dy·(Φ(x) + x·φ(x))} with φ the standard normal density; {@code dx} may be {@code dy}. */
    void geluBackward(INDArray x, INDArray dy, INDArray dx);

    /**
     * Softmax over the last axis of {@code s} [G, R, C]: {@code y = softmax(scale·s + bias[g mod Gb])}, where
     * {@code bias} is [Gb, R, C] with G a multiple of Gb (a relative-position bias and/or a window mask, repeated
     * over the leading groups), or null. Entries may be −∞ (masked); a row whose every entry is −∞ gives zeros.
     * Stable for large logits (the row maximum is subtracted). {@code y} may be {@code s}.
     */
    void softmax(INDArray s, double scale, INDArray bias, INDArray y);

    /**
     * Softmax's backward from its output: {@code dx = scale·y⊙(dy − Σ_c dy⊙y)} row-wise over the last axis (the
     * gradient with respect to {@code s} of {@link #softmax}; with {@code scale = 1} it is the gradient with respect
     * to the bias). {@code dx} may be {@code dy}.
     */
    void softmaxBackward(INDArray y, INDArray dy, double scale, INDArray dx);

    /** {@code y += v} for every row of {@code y} viewed as [length(y)/length(v), length(v)] (a bias, a position embedding). */
    void addRowVector(INDArray y, INDArray v);

    /**
     * Every row of {@code y} viewed as [length(y)/length(v), length(v)] becomes {@code v}: a Linear's output starts as
     * its bias and the product accumulates onto it (beta = 1), one pass instead of zeroing and adding.
     */
    void setRows(INDArray y, INDArray v);

    /** {@code out = Σ_rows x} (or {@code +=} when {@code accumulate}) with {@code x} viewed as [length(x)/length(out), length(out)]. */
    void columnSums(INDArray x, INDArray out, boolean accumulate);

    /** {@code y += x}, element-wise, same length (a residual). */
    void add(INDArray y, INDArray x);

    /**
     * {@code Σ (a − b)²} in double precision; when {@code grad} is not null also {@code grad = gradScale·(a − b)}, or
     * {@code +=} when {@code accumulate} (the feature-distillation term and its gradient in one pass).
     */
    double squaredDistance(INDArray a, INDArray b, double gradScale, INDArray grad, boolean accumulate);

    /**
     * {@code c = alpha·op(a)·op(b) + beta·c} for 2-D arrays, op = transpose when the flag is set. Any of the three may
     * be a strided view with unit stride along its last axis (an attention head is a column block of the qkv matrix;
     * its output a column block of the attention output), so no head is ever copied.
     */
    void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta);

    /**
     * Runs one pass of a model (a forward, a backward, a whole step) on these kernels. The CPU kernels parallelise
     * matrix products themselves and make BLAS single-threaded for the pass (switching OpenBLAS's thread count costs
     * about half a millisecond, far too much per product); passes nest and may run concurrently.
     */
    default void pass(Runnable work) {
        work.run();
    }

    /**
     * Scaled dot-product attention of G groups (one group per image and head): {@code P_g = softmax(scale·q_g·k_gᵀ +
     * bias)} into {@code probs} [G, T, T] (kept for the backward; {@code probRows[g]} is its [T, T] block g) and
     * {@code o_g = P_g·v_g}. {@code q, k, v, o} are [T, head_dim] views, usually column blocks of bigger matrices;
     * {@code bias} as in {@link #softmax}, or null. This composition is the portable one; an implementation may fuse
     * a group's three steps so its scores stay in cache.
     */
    default void attention(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray bias, INDArray probs,
            INDArray[] probRows, INDArray[] o) {
        for (int g = 0; g < q.length; g++) {
            gemm(q[g], false, k[g], true, probRows[g], 1, 0);
        }
        softmax(probs, scale, bias, probs);
        for (int g = 0; g < q.length; g++) {
            gemm(probRows[g], false, v[g], false, o[g], 1, 0);
        }
    }

    /**
     * {@link #attention}'s backward from its probabilities and the output gradients {@code dO}: writes {@code dQ, dK,
     * dV} (views like q, k, v), using {@code dProbs} [G, T, T] (blocks {@code dProbRows}) as scratch. On return
     * {@code dProbs} holds the gradient with respect to the scores {@code q·kᵀ} (softmax's {@code s}); divided by
     * {@code scale} it is the gradient of an additive bias, which Swin's relative position bias table sums.
     */
    default void attentionBackward(INDArray[] q, INDArray[] k, INDArray[] v, double scale, INDArray probs,
            INDArray[] probRows, INDArray[] dO, INDArray dProbs, INDArray[] dProbRows, INDArray[] dQ, INDArray[] dK,
            INDArray[] dV) {
        for (int g = 0; g < q.length; g++) {
            gemm(dO[g], false, v[g], true, dProbRows[g], 1, 0);
            gemm(probRows[g], true, dO[g], false, dV[g], 1, 0);
        }
        softmaxBackward(probs, dProbs, scale, dProbs);
        for (int g = 0; g < q.length; g++) {
            gemm(dProbRows[g], false, k[g], false, dQ[g], 1, 0);
            gemm(dProbRows[g], true, q[g], false, dK[g], 1, 0);
        }
    }

    /**
     * The implementation for the current ND4J backend: {@code CpuKernels} on nd4j-native, {@link PortableKernels}
     * otherwise; system property {@value #PROPERTY} ({@code cpu} or {@code portable}) overrides.
     */
    static Kernels forBackend() {
        return KernelsChoice.INSTANCE;
    }
}
