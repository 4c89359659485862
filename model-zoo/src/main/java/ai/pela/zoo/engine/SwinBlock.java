package ai.pela.zoo.engine;

import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinWindows;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The official SwinTransformerBlock on [N·res², C] token rows:
 * {@code x1 = x + reverse(attn_windows(partition(roll(norm1(x), −shift))))}, {@code out = x1 + fc2(gelu(fc1(norm2(x1))))}.
 *
 * <p>Roll and window partition are one row permutation ({@link SwinWindows#windowOrder}), so the forward is one
 * row gather before qkv and one back after proj, and the backward the same two the other way round. The window
 * attention is the ViT's {@link Attention} with one group per (image, window, head) and an additive score bias
 * [windows·heads, T, T]: the relative position bias (the table gathered through the index) plus, when the block
 * shifts, the −100 region mask. The table's gradient is that bias's gradient summed over images and windows and
 * scattered back through the index.
 */
final class SwinBlock {
    private final LayerNorm norm1;
    final Attention attn;
    private final Mlp mlp;
    private final int heads;
    private final int tokensPerWindow;
    private final int windows;
    private final int[] relativeIndex;
    private final float[] mask;
    private final INDArray table;
    private final INDArray dTable;
    /** The score bias [windows·heads (or heads without a mask), T, T]; a function of the table only. */
    private final INDArray bias;
    private final boolean training;
    private boolean biasReady;

    /** One block's activations at one batch size. */
    static final class Buffers {
        final LayerNorm.Buffers norm1;
        final INDArray windowed;
        final Attention.Buffers attn;
        final INDArray x1;
        final Mlp.Buffers mlp;
        final INDArray out;

        Buffers(SwinBlock blk, Arena arena, int n, int tokens, int d) {
            long rows = (long) n * tokens;
            norm1 = LayerNorm.buffers(arena, rows, d);
            windowed = arena.take(rows, d);
            attn = new Attention.Buffers(blk.attn, arena, n * blk.windows, blk.tokensPerWindow);
            x1 = arena.take(rows, d);
            mlp = new Mlp.Buffers(blk.mlp, arena, rows, d);
            out = mlp.out();
        }
    }

    /** Gradient scratch shared by the blocks of one stage (one block is differentiated at a time). */
    static final class Grads extends Mlp.Grads {
        final INDArray dWindowed;
        final INDArray dRelative;
        final Attention.Grads attn;

        Grads(Arena arena, SwinConfig c, int stage, int n, int maxRank) {
            super(arena, (long) n * c.tokens(stage), c.dim(stage), c.mlpHiddenDim(stage), maxRank);
            int t = c.window(stage) * c.window(stage);
            int windows = c.tokens(stage) / t;
            dWindowed = arena.take((long) n * c.tokens(stage), c.dim(stage));
            dRelative = arena.take((long) c.heads(stage) * t * t);
            attn = new Attention.Grads(arena, n * windows, t, c.heads(stage), c.headDim(stage));
        }
    }

    SwinBlock(ParamSet p, SwinConfig c, int stage, int block, LayerNorm norm1, Attention attn, LayerNorm norm2,
            Linear fc1, Linear fc2) {
        this.norm1 = norm1;
        this.attn = attn;
        this.mlp = new Mlp(norm2, fc1, fc2);
        this.heads = c.heads(stage);
        int w = c.window(stage);
        this.tokensPerWindow = w * w;
        this.windows = c.tokens(stage) / tokensPerWindow;
        this.relativeIndex = SwinWindows.relativePositionIndex(w);
        this.mask = SwinWindows.shiftMask(c.resolution(stage), w, c.shift(stage, block));
        String key = ai.pela.zoo.swin.SwinLayout.blockPrefix(stage, block) + "attn.relative_position_bias_table";
        this.table = p.value(key);
        this.training = p.flatGrads() != null;
        this.dTable = training ? p.grad(key) : null;
        this.bias = Nd4j.create(DataType.FLOAT, (long) (mask == null ? 1 : windows) * heads, tokensPerWindow,
                tokensPerWindow);
    }

    List<Integer> ranks() {
        return List.of(attn.qkv.rank, attn.proj.rank, mlp.fc1.rank, mlp.fc2.rank);
    }

    int maxRank() {
        return java.util.Collections.max(ranks());
    }

    /**
     * The block on {@code x}; its output is {@code b.out}. {@code order} is the stage's window permutation for this
     * block's shift and {@code inverse} its inverse. With buffers shared between blocks (inference) x may be the
     * previous block's {@code out}: it is read (norm1, the first residual) before fc2 writes.
     */
    void forward(Kernels k, INDArray x, Buffers b, int[] order, int[] inverse) {
        norm1.forward(k, x, b.norm1);
        gatherRows(b.norm1.out(), order, b.windowed);
        attn.forward(k, b.windowed, b.attn, scoreBias());
        gatherRows(b.attn.proj.out(), inverse, b.x1);
        k.add(b.x1, x);
        mlp.forward(k, b.x1, b.mlp);
        k.add(b.out, b.x1);
    }

    /**
     * Back through the block: {@code dStream} holds the gradient of the block's output on entry and that of its
     * input on return; every parameter gradient is written.
     */
    void backward(Kernels k, Buffers b, Grads s, INDArray dStream, int[] order, int[] inverse) {
        mlp.backward(k, b.mlp, s, dStream, dStream);
        gatherRows(dStream, order, s.dWindowed);
        // proj reads its output gradient before qkv writes the input gradient, so both can use dWindowed
        attn.backward(k, b.windowed, b.attn, s.attn, s.dWindowed, s.hidden(attn.proj), s.hidden(attn.qkv), s.dWindowed);
        tableGradient(k, s);
        gatherRows(s.dWindowed, inverse, s.dNormed);
        norm1.backward(k, s.dNormed, b.norm1, dStream, true);
    }

    /**
     * bias[win·heads + h, a, b] = table[index[a, b], h] + mask[win, a, b]. Training rebuilds it every forward (the
     * table is trained); inference builds it once.
     */
    private INDArray scoreBias() {
        if (biasReady && !training) {
            return bias;
        }
        float[] tab = table.reshape(table.length()).toFloatVector();
        int t2 = tokensPerWindow * tokensPerWindow;
        int groups = (int) bias.size(0);
        float[] out = new float[groups * t2];
        for (int g = 0; g < groups; g++) {
            int h = g % heads;
            int win = g / heads;
            for (int p = 0; p < t2; p++) {
                out[g * t2 + p] = tab[relativeIndex[p] * heads + h] + (mask == null ? 0f : mask[win * t2 + p]);
            }
        }
        bias.assign(Nd4j.createFromArray(out).reshape(bias.shape()));
        biasReady = true;
        return bias;
    }

    /**
     * The bias's gradient is the scores' gradient over scale (the softmax takes scale·s + bias), summed over images
     * and windows ([N·windows, heads·T·T] column sums); the table's is that scattered back through the index.
     */
    private void tableGradient(Kernels k, Grads s) {
        k.columnSums(s.attn.dProbs, s.dRelative, false);
        float[] rel = s.dRelative.toFloatVector();
        double[] grad = new double[(int) dTable.length()];
        int t2 = tokensPerWindow * tokensPerWindow;
        double inv = 1.0 / attn.scale;
        for (int h = 0; h < heads; h++) {
            for (int p = 0; p < t2; p++) {
                grad[relativeIndex[p] * heads + h] += rel[h * t2 + p] * inv;
            }
        }
        dTable.assign(Nd4j.createFromArray(grad).castTo(DataType.FLOAT).reshape(dTable.shape()));
    }

    /** {@code dst[r] = src[index[r]]}, rows of 2-D C-order matrices of the same shape. */
    static void gatherRows(INDArray src, int[] index, INDArray dst) {
        Nd4j.pullRows(src, dst, 1, index);
    }
}
