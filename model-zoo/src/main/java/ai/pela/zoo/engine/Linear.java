package ai.pela.zoo.engine;

import ai.pela.zoo.config.LowRankSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A Linear on rows, {@code y = x·Wᵀ + b}, or PELA's decomposed one, {@code y = (x·P.0ᵀ)·P.1ᵀ + b} (P.0 [r, d_in]
 * without bias, P.1 [d_out, r] with the original bias). Holds views of its parameters and their gradients; the
 * activations are the caller's (one {@link Buffers} per batch size).
 */
final class Linear {
    final String name;
    final int dIn;
    final int dOut;
    /** 0 for a dense Linear, else the rank of the decomposition. */
    final int rank;
    private final INDArray w;
    private final INDArray w1;
    private final INDArray bias;
    private final INDArray gw;
    private final INDArray gw1;
    private final INDArray gbias;
    /** Sees this Linear's input on every forward when set (a calibration pass); null otherwise. */
    Vit.InputObserver observer;

    /** The activations of one Linear at one batch size: its output and, decomposed, the [M, r] middle. */
    record Buffers(INDArray hidden, INDArray out) {
    }

    Linear(ParamSet p, LowRankSpec lowrank, String name, int dIn, int dOut, boolean hasBias) {
        this.name = name;
        this.dIn = dIn;
        this.dOut = dOut;
        this.rank = lowrank != null && lowrank.isDecomposed(name) ? lowrank.rank(name) : 0;
        boolean train = p.flatGrads() != null;
        String first = rank > 0 ? name + ".0.weight" : name + ".weight";
        String biasKey = rank > 0 ? name + ".1.bias" : name + ".bias";
        this.w = matrix(p.value(first));
        this.w1 = rank > 0 ? p.value(name + ".1.weight") : null;
        this.bias = hasBias ? p.value(biasKey) : null;
        this.gw = train ? matrix(p.grad(first)) : null;
        this.gw1 = train && rank > 0 ? p.grad(name + ".1.weight") : null;
        this.gbias = train && hasBias ? p.grad(biasKey) : null;
    }

    /** A weight as the 2-D [rows, d_in] matrix its product needs (the patch embedding's is 4-D in checkpoints). */
    private static INDArray matrix(INDArray a) {
        return a.rank() == 2 ? a : a.reshape('c', a.size(0), a.length() / a.size(0));
    }

    Buffers buffers(Arena arena, long rows) {
        return new Buffers(rank > 0 ? arena.take(rows, rank) : null, arena.take(rows, dOut));
    }

    /** {@code out = x·Wᵀ + b}: the output starts as the bias and the (last) product accumulates onto it. */
    void forward(Kernels k, INDArray x, Buffers b) {
        if (observer != null) {
            observer.observe(name, x);
        }
        double beta = 0;
        if (bias != null) {
            k.setRows(b.out(), bias);
            beta = 1;
        }
        if (rank > 0) {
            k.gemm(x, false, w, true, b.hidden(), 1, 0);
            k.gemm(b.hidden(), false, w1, true, b.out(), 1, beta);
        } else {
            k.gemm(x, false, w, true, b.out(), 1, beta);
        }
    }

    /**
     * Writes the parameter gradients from {@code dy} and the forward's input {@code x}; and {@code dx = dy·W} (or
     * {@code += } when {@code accumulate}) unless {@code dx} is null. {@code dHidden} is [M, r] scratch for a
     * decomposed Linear.
     */
    void backward(Kernels k, INDArray x, Buffers b, INDArray dy, INDArray dHidden, INDArray dx, boolean accumulate) {
        if (gbias != null) {
            k.columnSums(dy, gbias, false);
        }
        if (rank > 0) {
            k.gemm(dy, true, b.hidden(), false, gw1, 1, 0);
            k.gemm(dy, false, w1, false, dHidden, 1, 0);
            k.gemm(dHidden, true, x, false, gw, 1, 0);
            if (dx != null) {
                k.gemm(dHidden, false, w, false, dx, 1, accumulate ? 1 : 0);
            }
        } else {
            k.gemm(dy, true, x, false, gw, 1, 0);
            if (dx != null) {
                k.gemm(dy, false, w, false, dx, 1, accumulate ? 1 : 0);
            }
        }
    }
}
