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
    private final LayerNorm norm2;
    private final Linear fc1;
    private final Linear fc2;
    private final INDArray ls1;
    private final INDArray ls2;
    private final INDArray dls1;
    private final INDArray dls2;

    /** One block's activations at one batch size. */
    static final class Buffers {
        final LayerNorm.Buffers norm1;
        final Attention.Buffers attn;
        final INDArray x1;
        final LayerNorm.Buffers norm2;
        final Linear.Buffers fc1;
        final INDArray act;
        final Linear.Buffers fc2;
        final INDArray out;

        Buffers(Block blk, Arena arena, int n, int t, int d) {
            long rows = (long) n * t;
            norm1 = LayerNorm.buffers(arena, rows, d);
            attn = new Attention.Buffers(blk.attn, arena, n, t);
            x1 = blk.ls1 != null ? arena.take(rows, d) : attn.proj.out();
            norm2 = LayerNorm.buffers(arena, rows, d);
            fc1 = blk.fc1.buffers(arena, rows);
            act = arena.take(rows, blk.fc1.dOut);
            fc2 = blk.fc2.buffers(arena, rows);
            out = blk.ls2 != null ? arena.take(rows, d) : fc2.out();
        }
    }

    /** Gradient scratch shared by every block. */
    static final class Grads {
        private final java.util.Map<Integer, INDArray> hiddenViews = new java.util.HashMap<>();
        final INDArray dNormed;
        final INDArray dHidden;
        final INDArray dAct;
        final INDArray dScaled;
        final Attention.Grads attn;

        Grads(Arena arena, int n, int t, int d, int heads, int mlpHidden, int maxRank, boolean layerScale) {
            long rows = (long) n * t;
            dNormed = arena.take(rows, d);
            dHidden = arena.take(rows * Math.max(1, maxRank));
            dAct = arena.take(rows, mlpHidden);
            dScaled = layerScale ? arena.take(rows, d) : null;
            attn = new Attention.Grads(arena, n, t, heads, d / heads);
        }

        /** [N·T, rank] scratch for a decomposed Linear's middle gradient (views made once per rank). */
        INDArray hidden(Linear l) {
            return l.rank == 0 ? null
                    : hiddenViews.computeIfAbsent(l.rank, r -> Arena.view(dHidden, dNormed.size(0), r));
        }
    }

    Block(LayerNorm norm1, Attention attn, LayerNorm norm2, Linear fc1, Linear fc2, ParamSet p, String prefix,
            boolean layerScale) {
        this.norm1 = norm1;
        this.attn = attn;
        this.norm2 = norm2;
        this.fc1 = fc1;
        this.fc2 = fc2;
        boolean train = p.flatGrads() != null;
        this.ls1 = layerScale ? p.value(prefix + "ls1.gamma") : null;
        this.ls2 = layerScale ? p.value(prefix + "ls2.gamma") : null;
        this.dls1 = layerScale && train ? p.grad(prefix + "ls1.gamma") : null;
        this.dls2 = layerScale && train ? p.grad(prefix + "ls2.gamma") : null;
    }

    /** The ranks of the block's four Linears (0 = dense): blocks with equal ranks have equal buffers. */
    List<Integer> ranks() {
        return List.of(attn.qkv.rank, attn.proj.rank, fc1.rank, fc2.rank);
    }

    int maxRank() {
        return Math.max(Math.max(attn.qkv.rank, attn.proj.rank), Math.max(fc1.rank, fc2.rank));
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
        norm2.forward(k, b.x1, b.norm2);
        fc1.forward(k, b.norm2.out(), b.fc1);
        k.gelu(b.fc1.out(), b.act);
        fc2.forward(k, b.act, b.fc2);
        residual(k, b.x1, b.fc2.out(), ls2, b.out);
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
        INDArray dFc2 = scaleBranchGradient(dStream, b.fc2.out(), ls2, dls2, s);
        fc2.backward(k, b.act, b.fc2, dFc2, s.hidden(fc2), s.dAct, false);
        k.geluBackward(b.fc1.out(), s.dAct, s.dAct);
        fc1.backward(k, b.norm2.out(), b.fc1, s.dAct, s.hidden(fc1), s.dNormed, false);
        norm2.backward(k, s.dNormed, b.norm2, dStream, true);
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
