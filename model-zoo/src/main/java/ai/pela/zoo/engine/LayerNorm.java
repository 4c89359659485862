package ai.pela.zoo.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/** LayerNorm over the last axis of [M, D] rows, with its eps from the model (1e-6 for timm's ViT family). */
final class LayerNorm {
    private final INDArray gamma;
    private final INDArray beta;
    private final INDArray dgamma;
    private final INDArray dbeta;
    private final double eps;

    /** What the backward needs of one forward, and its output. */
    record Buffers(INDArray xhat, INDArray rstd, INDArray out) {
    }

    LayerNorm(ParamSet p, String name, double eps) {
        this.gamma = p.value(name + ".weight");
        this.beta = p.value(name + ".bias");
        boolean train = p.flatGrads() != null;
        this.dgamma = train ? p.grad(name + ".weight") : null;
        this.dbeta = train ? p.grad(name + ".bias") : null;
        this.eps = eps;
    }

    static Buffers buffers(Arena arena, long rows, long dim) {
        return new Buffers(arena.take(rows, dim), arena.take(rows), arena.take(rows, dim));
    }

    void forward(Kernels k, INDArray x, Buffers b) {
        k.layerNorm(x, gamma, beta, eps, b.xhat(), b.rstd(), b.out());
    }

    void backward(Kernels k, INDArray dy, Buffers b, INDArray dx, boolean accumulate) {
        k.layerNormBackward(dy, b.xhat(), b.rstd(), gamma, dx, accumulate, dgamma, dbeta);
    }
}
