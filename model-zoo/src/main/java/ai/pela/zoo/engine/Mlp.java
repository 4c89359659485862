package ai.pela.zoo.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The MLP branch of a pre-norm transformer block with its norm, {@code fc2(gelu(fc1(norm2(x))))}: the same in the
 * ViT {@link Block} and the {@link SwinBlock}. The residual around it stays with the block (LayerScale is ViT's).
 */
final class Mlp {
    private final LayerNorm norm;
    final Linear fc1;
    final Linear fc2;

    /** The branch's activations at one batch size; its output is {@link #out()}. */
    static final class Buffers {
        final LayerNorm.Buffers norm;
        final Linear.Buffers fc1;
        final INDArray act;
        final Linear.Buffers fc2;

        Buffers(Mlp m, Arena arena, long rows, int d) {
            norm = LayerNorm.buffers(arena, rows, d);
            fc1 = m.fc1.buffers(arena, rows);
            act = arena.take(rows, m.fc1.dOut);
            fc2 = m.fc2.buffers(arena, rows);
        }

        INDArray out() {
            return fc2.out();
        }
    }

    /**
     * Gradient scratch of a block's two branches, shared by blocks of one shape (one block is differentiated at a
     * time): the gradient at a branch's normed input, a decomposed Linear's middle gradient, the MLP's hidden one.
     */
    static class Grads {
        private final java.util.Map<Integer, INDArray> hiddenViews = new java.util.HashMap<>();
        final INDArray dNormed;
        final INDArray dHidden;
        final INDArray dAct;

        Grads(Arena arena, long rows, int d, int mlpHidden, int maxRank) {
            dNormed = arena.take(rows, d);
            dHidden = arena.take(rows * Math.max(1, maxRank));
            dAct = arena.take(rows, mlpHidden);
        }

        /** [rows, rank] scratch for a decomposed Linear's middle gradient (views made once per rank). */
        INDArray hidden(Linear l) {
            return l.rank == 0 ? null
                    : hiddenViews.computeIfAbsent(l.rank, r -> Arena.view(dHidden, dNormed.size(0), r));
        }
    }

    Mlp(LayerNorm norm, Linear fc1, Linear fc2) {
        this.norm = norm;
        this.fc1 = fc1;
        this.fc2 = fc2;
    }

    void forward(Kernels k, INDArray x, Buffers b) {
        norm.forward(k, x, b.norm);
        fc1.forward(k, b.norm.out(), b.fc1);
        k.gelu(b.fc1.out(), b.act);
        fc2.forward(k, b.act, b.fc2);
    }

    /**
     * Back from {@code dOut}, the gradient at the branch's output: every parameter gradient is written and the
     * gradient at the branch's input is added into {@code dStream}.
     */
    void backward(Kernels k, Buffers b, Grads s, INDArray dOut, INDArray dStream) {
        fc2.backward(k, b.act, b.fc2, dOut, s.hidden(fc2), s.dAct, false);
        k.geluBackward(b.fc1.out(), s.dAct, s.dAct);
        fc1.backward(k, b.norm.out(), b.fc1, s.dAct, s.hidden(fc1), s.dNormed, false);
        norm.backward(k, s.dNormed, b.norm, dStream, true);
    }
}
