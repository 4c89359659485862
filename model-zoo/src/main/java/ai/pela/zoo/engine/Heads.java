package ai.pela.zoo.engine;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The per-(image, head) views attention multiplies, made once per buffer: for a qkv matrix [N·T, 3·D] laid out as
 * timm's {@code reshape(N, T, 3, heads, head_dim)}, head h of image n is the [T, head_dim] block at rows n·T… and
 * columns s·D + h·head_dim… (s = 0, 1, 2 for q, k, v); for an attention output [N·T, D] the block at columns
 * h·head_dim…; for probabilities [N·heads·T, T] the rows of group n·heads + h. Strided views, never copies.
 */
final class Heads {
    final INDArray[] q;
    final INDArray[] k;
    final INDArray[] v;

    private Heads(INDArray[] q, INDArray[] k, INDArray[] v) {
        this.q = q;
        this.k = k;
        this.v = v;
    }

    /** q, k and v views of a [N·T, 3·D] matrix. */
    static Heads ofQkv(INDArray qkv, int n, int t, int heads, int headDim) {
        int d = heads * headDim;
        return new Heads(blocks(qkv, n, t, heads, headDim, 0), blocks(qkv, n, t, heads, headDim, d),
                blocks(qkv, n, t, heads, headDim, 2 * d));
    }

    /** Per-head column blocks of a [N·T, D] matrix (in {@link #q}; k and v are null). */
    static INDArray[] ofTokens(INDArray x, int n, int t, int heads, int headDim) {
        return blocks(x, n, t, heads, headDim, 0);
    }

    /** The [T, T] row blocks of a [N·heads·T, T] matrix, one per (image, head) group. */
    static INDArray[] ofGroups(INDArray scores, int groups, int t) {
        INDArray[] out = new INDArray[groups];
        for (int g = 0; g < groups; g++) {
            out[g] = scores.get(NDArrayIndex.interval((long) g * t, (long) (g + 1) * t), NDArrayIndex.all());
        }
        return out;
    }

    private static INDArray[] blocks(INDArray x, int n, int t, int heads, int headDim, int column0) {
        INDArray[] out = new INDArray[n * heads];
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < heads; h++) {
                long c = column0 + (long) h * headDim;
                out[i * heads + h] = x.get(NDArrayIndex.interval((long) i * t, (long) (i + 1) * t),
                        NDArrayIndex.interval(c, c + headDim));
            }
        }
        return out;
    }
}
