package ai.pela.zoo.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm's multi-head self-attention on [N·T, D] rows: one fused qkv product, then per (image, head)
 * {@code P = softmax(q·kᵀ/√head_dim)} and {@code o = P·v} written straight into the head's column block of the
 * output, then proj. Heads are strided views ({@link Heads}); the softmax runs once over all groups.
 */
final class Attention {
    final Linear qkv;
    final Linear proj;
    private final int heads;
    private final int headDim;
    final double scale;

    /** One block's attention activations at one batch size. */
    static final class Buffers {
        final Linear.Buffers qkv;
        final INDArray probs;
        /** {@link #probs} seen as the [groups, T, T] the softmax kernel takes. */
        final INDArray probGroups;
        final INDArray out;
        final Linear.Buffers proj;
        final Heads qkvHeads;
        final INDArray[] probHeads;
        final INDArray[] outHeads;

        Buffers(Attention a, Arena arena, int n, int t) {
            long rows = (long) n * t;
            int groups = n * a.heads;
            qkv = a.qkv.buffers(arena, rows);
            probs = arena.take((long) groups * t, t);
            probGroups = probs.reshape('c', groups, t, t);
            out = arena.take(rows, (long) a.heads * a.headDim);
            proj = a.proj.buffers(arena, rows);
            qkvHeads = Heads.ofQkv(qkv.out(), n, t, a.heads, a.headDim);
            probHeads = Heads.ofGroups(probs, groups, t);
            outHeads = Heads.ofTokens(out, n, t, a.heads, a.headDim);
        }
    }

    /** Gradient scratch shared by every block (one block is differentiated at a time). */
    static final class Grads {
        final INDArray dQkv;
        final INDArray dProbs;
        final INDArray dProbGroups;
        final INDArray dOut;
        final Heads dQkvHeads;
        final INDArray[] dProbHeads;
        final INDArray[] dOutHeads;

        Grads(Arena arena, int n, int t, int heads, int headDim) {
            long rows = (long) n * t;
            dQkv = arena.take(rows, 3L * heads * headDim);
            dProbs = arena.take((long) n * heads * t, t);
            dProbGroups = dProbs.reshape('c', (long) n * heads, t, t);
            dOut = arena.take(rows, (long) heads * headDim);
            dQkvHeads = Heads.ofQkv(dQkv, n, t, heads, headDim);
            dProbHeads = Heads.ofGroups(dProbs, n * heads, t);
            dOutHeads = Heads.ofTokens(dOut, n, t, heads, headDim);
        }
    }

    Attention(Linear qkv, Linear proj, int heads, int headDim) {
        this.qkv = qkv;
        this.proj = proj;
        this.heads = heads;
        this.headDim = headDim;
        this.scale = 1.0 / Math.sqrt(headDim);
    }

    /** Attention of the normalised tokens {@code x}; the result is in {@code b.proj.out()}. */
    void forward(Kernels k, INDArray x, Buffers b) {
        forward(k, x, b, null);
    }

    /**
     * As above with an additive score bias [Gb, T, T] repeated over the groups (Swin's relative position bias and
     * window mask; see {@link Kernels#softmax}), or null.
     */
    void forward(Kernels k, INDArray x, Buffers b, INDArray bias) {
        qkv.forward(k, x, b.qkv);
        Heads h = b.qkvHeads;
        k.attention(h.q, h.k, h.v, scale, bias, b.probGroups, b.probHeads, b.outHeads);
        proj.forward(k, b.out, b.proj);
    }

    /**
     * From {@code dy} (the gradient of the proj output) writes every parameter gradient and {@code dx} (the
     * gradient of the normalised input), using {@code dHidden} as the decomposed Linears' scratch.
     */
    void backward(Kernels k, INDArray x, Buffers b, Grads s, INDArray dy, INDArray dHiddenProj,
            INDArray dHiddenQkv, INDArray dx) {
        proj.backward(k, b.out, b.proj, dy, dHiddenProj, s.dOut, false);
        Heads h = b.qkvHeads;
        Heads dh = s.dQkvHeads;
        k.attentionBackward(h.q, h.k, h.v, scale, b.probGroups, b.probHeads, s.dOutHeads, s.dProbGroups, s.dProbHeads,
                dh.q, dh.k, dh.v);
        qkv.backward(k, x, b.qkv, s.dQkv, dHiddenQkv, dx, false);
    }

}
