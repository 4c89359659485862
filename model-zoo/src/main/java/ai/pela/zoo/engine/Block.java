package ai.pela.zoo.engine;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * timm's pre-norm transformer Block on [N·T, D] rows: {@code x1 = x + ls1·attn(norm1(x))},
 * {@code out = x1 + ls2·fc2(gelu(fc1(norm2(x1))))} (LayerScale only where the model has it: DeiT-III).
 *
 * <p>Without LayerScale each residual is added in place into the branch's output buffer (x1 is the proj output,
 * the block output is the fc2 output), so a block costs no copies.
 */
final class Block {
    private final LayerNorm norm1;
    private final Attention attn;
    private final Mlp mlp;
    private final INDArray ls1;
    private final INDArray ls2;
    private final INDArray dls1;
    private final INDArray dls2;

    /** One block's activations at one batch size. */
    static final class Buffers {
        final LayerNorm.Buffers norm1;
        final Attention.Buffers attn;
        final INDArray x1;
        final Mlp.Buffers mlp;
        final INDArray out;

        Buffers(Block blk, Arena arena, int n, int t, int d) {
            long rows = (long) n * t;
            norm1 = LayerNorm.buffers(arena, rows, d);
            attn = new Attention.Buffers(blk.attn, arena, n, t);
            x1 = blk.ls1 != null ? arena.take(rows, d) : attn.proj.out();
            mlp = new Mlp.Buffers(blk.mlp, arena, rows, d);
            out = blk.ls2 != null ? arena.take(rows, d) : mlp.out();
        }
    }

    /** Gradient scratch shared by every block. */
    static final class Grads extends Mlp.Grads {
        final INDArray dScaled;
        final Attention.Grads attn;

        Grads(Arena arena, int n, int t, int d, int heads, int mlpHidden, int maxRank, boolean layerScale) {
            super(arena, (long) n * t, d, mlpHidden, maxRank);
            dScaled = layerScale ? arena.take((long) n * t, d) : null;
            attn = new Attention.Grads(arena, n, t, heads, d / heads);
        }
    }

    Block(LayerNorm norm1, Attention attn, LayerNorm norm2, Linear fc1, Linear fc2, ParamSet p, String prefix,
            boolean layerScale) {
        this.norm1 = norm1;
        this.attn = attn;
        this.mlp = new Mlp(norm2, fc1, fc2);
        boolean train = p.flatGrads() != null;
        this.ls1 = layerScale ? p.value(prefix + "ls1.gamma") : null;
        this.ls2 = layerScale ? p.value(prefix + "ls2.gamma") : null;
        this.dls1 = layerScale && train ? p.grad(prefix + "ls1.gamma") : null;
        this.dls2 = layerScale && train ? p.grad(prefix + "ls2.gamma") : null;
    }

    /** The ranks of the block's four Linears (0 = dense): blocks with equal ranks have equal buffers. */
    List<Integer> ranks() {
        return List.of(attn.qkv.rank, attn.proj.rank, mlp.fc1.rank, mlp.fc2.rank);
    }

    int maxRank() {
        return java.util.Collections.max(ranks());
    }

    /**
     * The block on {@code x}; its output is {@code b.out}. When blocks share one set of buffers (inference), x may be
     * the previous block's {@code out}, which is this block's fc2 output: it is read (norm1, the first residual)
     * before fc2 writes.
     */
    void forward(Kernels k, INDArray x, Buffers b) {
        norm1.forward(k, x, b.norm1);
        attn.forward(k, b.norm1.out(), b.attn);
        residual(k, x, b.attn.proj.out(), ls1, b.x1);
        mlp.forward(k, b.x1, b.mlp);
        residual(k, b.x1, b.mlp.out(), ls2, b.out);
    }

    /** {@code out = x + branch} (in place when out is the branch), or {@code x + gamma·branch} with LayerScale. */
    private static void residual(Kernels k, INDArray x, INDArray branch, INDArray gamma, INDArray out) {
        if (gamma == null) {
            k.add(branch, x);
        } else {
            out.assign(branch).muliRowVector(gamma);
            k.add(out, x);
        }
    }

    /**
     * Back through the block: {@code dStream} holds the gradient of the block's output on entry and that of its
     * input on return (both residual paths add into it in place); every parameter gradient is written.
     */
    void backward(Kernels k, Buffers b, Grads s, INDArray dStream) {
        mlp.backward(k, b.mlp, s, scaleBranchGradient(dStream, b.mlp.out(), ls2, dls2, s), dStream);
        INDArray dProj = scaleBranchGradient(dStream, b.attn.proj.out(), ls1, dls1, s);
        attn.backward(k, b.norm1.out(), b.attn, s.attn, dProj, s.hidden(attn.proj), s.hidden(attn.qkv), s.dNormed);
        norm1.backward(k, s.dNormed, b.norm1, dStream, true);
    }

    /** The gradient reaching a branch's output: dStream itself, or dStream·γ with LayerScale (and γ's gradient). */
    private static INDArray scaleBranchGradient(INDArray dStream, INDArray branch, INDArray gamma, INDArray dGamma,
            Grads s) {
        if (gamma == null) {
            return dStream;
        }
        dGamma.assign(s.dScaled.assign(dStream).muli(branch).sum(0));
        return s.dScaled.assign(dStream).muliRowVector(gamma);
    }

}
