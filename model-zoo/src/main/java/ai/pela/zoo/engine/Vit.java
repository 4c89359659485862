package ai.pela.zoo.engine;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * timm's VisionTransformer on the engine: patch embedding (a stride-p convolution is a product over flattened
 * patches), class token and position embedding, the blocks, the final norm, pooling and the head, each with an
 * explicit forward and backward. Parameters are the {@link ParamSet}'s views under their checkpoint keys; the
 * activations of one batch size are an {@link Activations}, allocated once and reused by every pass.
 *
 * <p>Tokens stay a [N·T, D] matrix from the embedding to the head, so every Linear is one matrix product.
 */
public final class Vit {
    /** timm's LayerNorm eps for the ViT family. */
    public static final double LN_EPS = 1e-6;

    private final ModelConfig cfg;
    private final Kernels k;
    private final Linear patchEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear head;
    private final INDArray clsToken;
    private final INDArray posEmbed;
    private final INDArray dClsToken;
    private final INDArray dPosEmbed;
    private final boolean training;
    /** Every Linear, in the forward's order, so an {@link InputObserver} can be set on all of them. */
    private final List<Linear> linears = new ArrayList<>();

    /** Receives the gradient of a block's output during the backward: adds the L_fd term into {@code dOutput}. */
    @FunctionalInterface
    public interface BlockOutputGradient {
        void addTo(int block, INDArray output, INDArray dOutput);
    }

    /** Sees the input rows [M, d_in] of a Linear during a forward (e.g. to collect calibration statistics). */
    @FunctionalInterface
    public interface InputObserver {
        void observe(String linear, INDArray input);
    }

    /** The model over {@code params} (with gradients: trainable; without: inference only). */
    public Vit(ModelConfig cfg, ParamSet params, Kernels kernels) {
        this.cfg = cfg;
        this.k = kernels;
        this.training = params.flatGrads() != null;
        LowRankSpec lr = cfg.lowrank();
        int d = cfg.embedDim();
        patchEmbed = new Linear(params, null, "patch_embed.proj", cfg.inChans() * cfg.patchSize() * cfg.patchSize(), d, true);
        for (int i = 0; i < cfg.depth(); i++) {
            String b = VitLayout.blockPrefix(i);
            Linear qkv = new Linear(params, lr, b + "attn.qkv", d, 3 * d, cfg.qkvBias());
            Linear proj = new Linear(params, lr, b + "attn.proj", d, d, true);
            Linear fc1 = new Linear(params, lr, b + "mlp.fc1", d, cfg.mlpHiddenDim(), true);
            Linear fc2 = new Linear(params, lr, b + "mlp.fc2", cfg.mlpHiddenDim(), d, true);
            linears.addAll(List.of(qkv, proj, fc1, fc2));
            Attention attn = new Attention(qkv, proj, cfg.numHeads(), cfg.headDim());
            blocks.add(new Block(new LayerNorm(params, b + "norm1", LN_EPS), attn, new LayerNorm(params, b + "norm2", LN_EPS),
                    fc1, fc2, params, b, cfg.hasLayerScale()));
        }
        norm = new LayerNorm(params, "norm", LN_EPS);
        head = cfg.hasHead() ? new Linear(params, lr, "head", d, cfg.numClasses(), true) : null;
        clsToken = cfg.classToken() ? params.value("cls_token").reshape(d) : null;
        posEmbed = params.value("pos_embed");
        dClsToken = training && cfg.classToken() ? params.grad("cls_token").reshape(d) : null;
        dPosEmbed = training ? params.grad("pos_embed") : null;
        linears.add(0, patchEmbed);
        if (head != null) {
            linears.add(head);
        }
    }

    /** Shows every Linear's input to {@code observer} on each later forward; null stops it. Changes no result. */
    public void observeLinearInputs(InputObserver observer) {
        linears.forEach(l -> l.observer = observer);
    }

    public ModelConfig config() {
        return cfg;
    }

    /**
     * The buffers of a {@code batch}-image pass. Training keeps every block's activations for the backward;
     * inference lets all blocks share one set, so its memory does not grow with depth.
     */
    public Activations activations(int batch) {
        return new Activations(batch);
    }

    /** Every buffer of one batch size. */
    public final class Activations {
        final int n;
        private final Arena arena = new Arena();
        private final INDArray patches;
        private final INDArray patches6;
        private final Linear.Buffers patchOut;
        private final INDArray tokens;
        private final INDArray[] clsRows;
        private final List<Block.Buffers> blockBuffers = new ArrayList<>();
        private final LayerNorm.Buffers normed;
        private final INDArray pooled;
        private final Linear.Buffers logits;
        private final Block.Grads grads;
        private final INDArray dStream;
        private final INDArray dPooled;
        /** A contiguous copy of the pooled feature for L_fd at {@link FdPoints#FINAL} (token pooling's is a view). */
        private final INDArray pooledCopy;
        private final INDArray dPatch;
        private final INDArray dHeadHidden;

        private Activations(int n) {
            this.n = n;
            int t = cfg.numTokens();
            int d = cfg.embedDim();
            int p = cfg.patchSize();
            int g = cfg.gridSize();
            long rows = (long) n * t;
            patches = arena.take((long) n * cfg.numPatches(), (long) cfg.inChans() * p * p);
            patches6 = patches.reshape('c', n, g, g, cfg.inChans(), p, p);
            patchOut = patchEmbed.buffers(arena, (long) n * cfg.numPatches());
            tokens = cfg.numPrefixTokens() == 0 ? patchOut.out() : arena.take(rows, d);
            clsRows = new INDArray[cfg.classToken() ? n : 0];
            for (int i = 0; i < clsRows.length; i++) {
                clsRows[i] = tokens.getRow((long) i * t);
            }
            // Inference: blocks of the same shape share one set (a per-layer rank policy can make shapes differ).
            java.util.Map<List<Integer>, Block.Buffers> shared = new java.util.HashMap<>();
            for (Block b : blocks) {
                blockBuffers.add(training ? new Block.Buffers(b, arena, n, t, d)
                        : shared.computeIfAbsent(b.ranks(), r -> new Block.Buffers(b, arena, n, t, d)));
            }
            normed = LayerNorm.buffers(arena, rows, d);
            pooled = cfg.globalPool().equals("token")
                    ? normed.out().reshape('c', n, (long) t * d).get(NDArrayIndex.all(), NDArrayIndex.interval(0, d))
                    : arena.take(n, d);
            logits = head != null ? head.buffers(arena, n) : null;
            if (training) {
                int maxRank = blocks.stream().mapToInt(Block::maxRank).max().orElse(0);
                grads = new Block.Grads(arena, n, t, d, cfg.numHeads(), cfg.mlpHiddenDim(), maxRank, cfg.hasLayerScale());
                dStream = arena.take(rows, d);
                dPooled = arena.take(n, d);
                pooledCopy = arena.take(n, d);
                dPatch = cfg.numPrefixTokens() == 0 ? dStream : arena.take((long) n * cfg.numPatches(), d);
                dHeadHidden = head != null && head.rank > 0 ? arena.take(n, head.rank) : null;
            } else {
                dHeadHidden = null;
                grads = null;
                dStream = null;
                dPooled = null;
                pooledCopy = null;
                dPatch = null;
            }
        }

        public int batchSize() {
            return n;
        }


        /** The logits [N, classes] of the last forward (a buffer: overwritten by the next pass). */
        public INDArray logits() {
            return logits.out();
        }


    }

    /**
     * The forward pass on normalised images [N, C, H, W]; logits in {@code a.logits()}. When {@code features} is not
     * null, block i's output is copied into {@code features.get(i)} ([N·T, D] or [N, T, D]).
     */
    public void forward(Activations a, INDArray images, List<INDArray> features) {
        forward(a, images, features, FdPoints.BLOCKS);
    }

    /**
     * As above; with {@link FdPoints#FINAL} the pooled feature [N, D] (what the head sees) goes into
     * {@code features.get(0)} instead.
     */
    public void forward(Activations a, INDArray images, List<INDArray> features, FdPoints points) {
        k.pass(() -> forwardPass(a, images, features, points));
    }

    private void forwardPass(Activations a, INDArray images, List<INDArray> features, FdPoints points) {
        embed(a, images);
        INDArray x = a.tokens;
        for (int i = 0; i < blocks.size(); i++) {
            Block.Buffers b = a.blockBuffers.get(i);
            blocks.get(i).forward(k, x, b);
            x = b.out;
            if (features != null && points == FdPoints.BLOCKS) {
                features.get(i).assign(x.reshape(features.get(i).shape()));
            }
        }
        norm.forward(k, x, a.normed);
        if (head != null) {
            pool(a);
            if (features != null && points == FdPoints.FINAL) {
                features.get(0).assign(a.pooled.reshape(features.get(0).shape()));
            }
            head.forward(k, a.pooled, a.logits);
        }
    }

    private void embed(Activations a, INDArray images) {
        int c = cfg.inChans();
        int p = cfg.patchSize();
        int g = cfg.gridSize();
        a.patches6.assign(images.reshape('c', a.n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5));
        patchEmbed.forward(k, a.patches, a.patchOut);
        if (cfg.noEmbedClass()) {
            k.addRowVector(a.patchOut.out(), posEmbed);
        }
        if (a.tokens != a.patchOut.out()) {
            int prefix = cfg.numPrefixTokens();
            tokens3(a).get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, cfg.numTokens()), NDArrayIndex.all())
                    .assign(a.patchOut.out().reshape('c', a.n, cfg.numPatches(), cfg.embedDim()));
            for (INDArray row : a.clsRows) {
                row.assign(clsToken);
            }
        }
        if (!cfg.noEmbedClass()) {
            k.addRowVector(a.tokens, posEmbed);
        }
    }

    private INDArray tokens3(Activations a) {
        return a.tokens.reshape('c', a.n, cfg.numTokens(), cfg.embedDim());
    }

    private void pool(Activations a) {
        if (!cfg.globalPool().equals("token")) {
            INDArray normed3 = a.normed.out().reshape('c', a.n, cfg.numTokens(), cfg.embedDim());
            a.pooled.assign(normed3.get(NDArrayIndex.all(), NDArrayIndex.interval(cfg.numPrefixTokens(), cfg.numTokens()),
                    NDArrayIndex.all()).mean(1));
        }
    }

    /**
     * The backward pass from the gradient of the logits [N, classes] (after a {@link #forward} on the same
     * activations): writes every parameter's gradient into the {@link ParamSet}'s gradient vector (each exactly
     * once, so nothing needs zeroing). {@code fd}, when not null, adds each block output's L_fd gradient.
     */
    public void backward(Activations a, INDArray dLogits, BlockOutputGradient fd) {
        backward(a, dLogits, fd, FdPoints.BLOCKS);
    }

    /** As above, {@code fd} adding its gradient at the points of {@code points} (index 0: the pooled feature). */
    public void backward(Activations a, INDArray dLogits, BlockOutputGradient fd, FdPoints points) {
        if (!training) {
            throw new IllegalStateException("this model was built for inference (no gradients)");
        }
        k.pass(() -> backwardPass(a, dLogits, points == FdPoints.BLOCKS ? fd : null,
                points == FdPoints.FINAL ? fd : null));
    }

    private void backwardPass(Activations a, INDArray dLogits, BlockOutputGradient fd, BlockOutputGradient fdPooled) {
        head.backward(k, a.pooled, a.logits, dLogits, a.dHeadHidden, a.dPooled, false);
        if (fdPooled != null) {
            fdPooled.addTo(0, a.pooledCopy.assign(a.pooled), a.dPooled);
        }
        INDArray dNormed = a.grads.dNormed;
        unpool(a, dNormed);
        norm.backward(k, dNormed, a.normed, a.dStream, false);
        for (int i = blocks.size() - 1; i >= 0; i--) {
            Block.Buffers b = a.blockBuffers.get(i);
            if (fd != null) {
                fd.addTo(i, b.out, a.dStream);
            }
            blocks.get(i).backward(k, b, a.grads, a.dStream);
        }
        embedBackward(a);
    }

    /** The pooled features' gradient spread back over the normed tokens it came from. */
    private void unpool(Activations a, INDArray dNormed) {
        int t = cfg.numTokens();
        int d = cfg.embedDim();
        dNormed.assign(0);
        INDArray rows = dNormed.reshape('c', a.n, (long) t * d);
        if (cfg.globalPool().equals("token")) {
            rows.get(NDArrayIndex.all(), NDArrayIndex.interval(0, d)).assign(a.dPooled);
            return;
        }
        INDArray share = a.dPooled.div(cfg.numPatches());
        for (int j = cfg.numPrefixTokens(); j < t; j++) {
            rows.get(NDArrayIndex.all(), NDArrayIndex.interval((long) j * d, (long) (j + 1) * d)).assign(share);
        }
    }

    private void embedBackward(Activations a) {
        INDArray dTokens3 = a.dStream.reshape('c', a.n, cfg.numTokens(), cfg.embedDim());
        if (!cfg.noEmbedClass()) {
            k.columnSums(a.dStream, dPosEmbed, false);
        }
        if (cfg.classToken()) {
            dClsToken.assign(dTokens3.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).sum(0));
        }
        if (a.dPatch != a.dStream) {
            a.dPatch.reshape('c', a.n, cfg.numPatches(), cfg.embedDim()).assign(dTokens3.get(NDArrayIndex.all(),
                    NDArrayIndex.interval(cfg.numPrefixTokens(), cfg.numTokens()), NDArrayIndex.all()));
        }
        if (cfg.noEmbedClass()) {
            k.columnSums(a.dPatch, dPosEmbed, false);
        }
        patchEmbed.backward(k, a.patches, a.patchOut, a.dPatch, null, null, false);
    }
}
