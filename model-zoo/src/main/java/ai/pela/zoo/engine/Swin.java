package ai.pela.zoo.engine;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinWindows;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The official Swin Transformer on the engine: patch embedding (a product over flattened patches) and its norm;
 * per stage the {@link SwinBlock}s, alternately unshifted and shifted, then PatchMerging (a row gather that
 * concatenates the four 2×2 neighbours, norm, reduction without bias); the final norm, the mean over tokens and
 * the head. Tokens are [N·res², C] rows throughout, so every Linear is one matrix product and roll, window
 * partition and merging are row permutations computed once per batch size.
 *
 * <p>Feature distillation sees either every block's output ({@link FdPoints#BLOCKS}, [N·res², C] per block) or the
 * pooled feature ({@link FdPoints#FINAL}, [N, C]).
 */
public final class Swin {
    private final SwinConfig cfg;
    private final Kernels k;
    private final boolean training;
    private final Linear patchEmbed;
    private final LayerNorm patchNorm;
    private final List<SwinBlock> blocks = new ArrayList<>();
    private final List<Integer> blockStage = new ArrayList<>();
    private final List<Boolean> blockShifted = new ArrayList<>();
    private final List<LayerNorm> mergeNorms = new ArrayList<>();
    private final List<Linear> reductions = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear head;
    /** Every Linear, so an {@link Vit.InputObserver} can be set on all of them. */
    private final List<Linear> linears = new ArrayList<>();

    /** The model over {@code params} (with gradients: trainable; without: inference only). */
    public Swin(SwinConfig cfg, ParamSet params, Kernels kernels) {
        if (!cfg.hasHead()) {
            throw new PelaException("the Swin config has num_classes 0 (no head); the engine computes logits");
        }
        this.cfg = cfg;
        this.k = kernels;
        this.training = params.flatGrads() != null;
        LowRankSpec lr = cfg.lowrank();
        double eps = SwinConfig.LN_EPS;
        patchEmbed = new Linear(params, null, "patch_embed.proj", cfg.inChans() * cfg.patchSize() * cfg.patchSize(),
                cfg.embedDim(), true);
        patchNorm = new LayerNorm(params, "patch_embed.norm", eps);
        for (int s = 0; s < cfg.numStages(); s++) {
            int d = cfg.dim(s);
            for (int j = 0; j < cfg.depths().get(s); j++) {
                String b = SwinLayout.blockPrefix(s, j);
                Linear qkv = new Linear(params, lr, b + "attn.qkv", d, 3 * d, cfg.qkvBias());
                Linear proj = new Linear(params, lr, b + "attn.proj", d, d, true);
                Linear fc1 = new Linear(params, lr, b + "mlp.fc1", d, cfg.mlpHiddenDim(s), true);
                Linear fc2 = new Linear(params, lr, b + "mlp.fc2", cfg.mlpHiddenDim(s), d, true);
                linears.addAll(List.of(qkv, proj, fc1, fc2));
                blocks.add(new SwinBlock(params, cfg, s, j, new LayerNorm(params, b + "norm1", eps),
                        new Attention(qkv, proj, cfg.heads(s), cfg.headDim(s)), new LayerNorm(params, b + "norm2", eps),
                        fc1, fc2));
                blockStage.add(s);
                blockShifted.add(cfg.shift(s, j) > 0);
            }
            if (s < cfg.numStages() - 1) {
                String ds = SwinLayout.downsamplePrefix(s);
                mergeNorms.add(new LayerNorm(params, ds + "norm", eps));
                reductions.add(new Linear(params, lr, ds + "reduction", 4 * d, 2 * d, false));
            }
        }
        norm = new LayerNorm(params, "norm", eps);
        head = new Linear(params, lr, "head", cfg.numFeatures(), cfg.numClasses(), true);
        linears.add(0, patchEmbed);
        linears.addAll(reductions);
        linears.add(head);
    }

    /** Shows every Linear's input to {@code observer} on each later forward; null stops it. Changes no result. */
    public void observeLinearInputs(Vit.InputObserver observer) {
        linears.forEach(l -> l.observer = observer);
    }

    public SwinConfig config() {
        return cfg;
    }

    /** The shapes of the feature-distillation points at {@code batch} images: per block [N·res², C], or [N, C]. */
    public List<long[]> featureShapes(int batch, FdPoints points) {
        List<long[]> out = new ArrayList<>();
        if (points == FdPoints.FINAL) {
            out.add(new long[] {batch, cfg.numFeatures()});
            return out;
        }
        for (int s : blockStage) {
            out.add(new long[] {(long) batch * cfg.tokens(s), cfg.dim(s)});
        }
        return out;
    }

    /**
     * The buffers of a {@code batch}-image pass. Training keeps every block's activations for the backward;
     * inference lets the blocks of a stage share one set.
     */
    public Activations activations(int batch) {
        return new Activations(batch);
    }

    /** Every buffer of one batch size, and the row permutations of its token grids. */
    public final class Activations {
        final int n;
        private final Arena arena = new Arena();
        private final INDArray patches;
        private final INDArray patches6;
        private final Linear.Buffers patchOut;
        private final LayerNorm.Buffers embedded;
        /** Per stage: window order and its inverse, unshifted [0] and shifted [1] (null where nothing shifts). */
        private final int[][][] windowOrder;
        private final int[][][] windowInverse;
        private final int[][] mergeInverse;
        private final int[][] mergeOrder;
        private final List<SwinBlock.Buffers> blockBuffers = new ArrayList<>();
        private final INDArray[] merged;
        private final LayerNorm.Buffers[] mergeNormed;
        private final Linear.Buffers[] reduced;
        private final LayerNorm.Buffers normed;
        private final INDArray pooled;
        private final Linear.Buffers logits;
        private final SwinBlock.Grads[] grads;
        private final INDArray[] dStream;
        private final INDArray[] dMergeNormed;
        private final INDArray[] dMerged;
        private final INDArray[] dReductionHidden;
        private final INDArray dNormed;
        private final INDArray dEmbedded;
        private final INDArray dPooled;
        private final INDArray dHeadHidden;

        private Activations(int n) {
            this.n = n;
            int stages = cfg.numStages();
            int p = cfg.patchSize();
            int g = cfg.resolution(0);
            long rows0 = (long) n * cfg.tokens(0);
            patches = arena.take(rows0, (long) cfg.inChans() * p * p);
            patches6 = patches.reshape('c', n, g, g, cfg.inChans(), p, p);
            patchOut = patchEmbed.buffers(arena, rows0);
            embedded = LayerNorm.buffers(arena, rows0, cfg.embedDim());
            windowOrder = new int[stages][2][];
            windowInverse = new int[stages][2][];
            mergeOrder = new int[stages][];
            mergeInverse = new int[stages][];
            for (int s = 0; s < stages; s++) {
                int res = cfg.resolution(s);
                int w = cfg.window(s);
                windowOrder[s][0] = SwinWindows.windowOrder(n, res, w, 0);
                windowInverse[s][0] = SwinWindows.inverse(windowOrder[s][0]);
                int shift = cfg.depths().get(s) > 1 ? cfg.shift(s, 1) : 0;
                if (shift > 0) {
                    windowOrder[s][1] = SwinWindows.windowOrder(n, res, w, shift);
                    windowInverse[s][1] = SwinWindows.inverse(windowOrder[s][1]);
                }
                if (s < stages - 1) {
                    mergeOrder[s] = SwinWindows.mergeOrder(n, res);
                    mergeInverse[s] = SwinWindows.inverse(mergeOrder[s]);
                }
            }
            Map<List<Integer>, SwinBlock.Buffers> shared = new HashMap<>();
            for (int i = 0; i < blocks.size(); i++) {
                SwinBlock b = blocks.get(i);
                int s = blockStage.get(i);
                List<Integer> key = new ArrayList<>(b.ranks());
                key.add(s);
                blockBuffers.add(training ? new SwinBlock.Buffers(b, arena, n, cfg.tokens(s), cfg.dim(s))
                        : shared.computeIfAbsent(key, x -> new SwinBlock.Buffers(b, arena, n, cfg.tokens(s), cfg.dim(s))));
            }
            merged = new INDArray[stages - 1];
            mergeNormed = new LayerNorm.Buffers[stages - 1];
            reduced = new Linear.Buffers[stages - 1];
            for (int s = 0; s < stages - 1; s++) {
                long rows = (long) n * cfg.tokens(s + 1);
                merged[s] = arena.take(rows, 4L * cfg.dim(s));
                mergeNormed[s] = LayerNorm.buffers(arena, rows, 4L * cfg.dim(s));
                reduced[s] = reductions.get(s).buffers(arena, rows);
            }
            long rowsLast = (long) n * cfg.tokens(stages - 1);
            normed = LayerNorm.buffers(arena, rowsLast, cfg.numFeatures());
            pooled = arena.take(n, cfg.numFeatures());
            logits = head.buffers(arena, n);
            if (!training) {
                grads = null;
                dStream = dMergeNormed = dMerged = dReductionHidden = null;
                dNormed = dEmbedded = dPooled = dHeadHidden = null;
                return;
            }
            grads = new SwinBlock.Grads[stages];
            dStream = new INDArray[stages];
            for (int s = 0; s < stages; s++) {
                int stage = s;
                int maxRank = 0;
                for (int i = 0; i < blocks.size(); i++) {
                    if (blockStage.get(i) == stage) {
                        maxRank = Math.max(maxRank, blocks.get(i).maxRank());
                    }
                }
                grads[s] = new SwinBlock.Grads(arena, cfg, s, n, maxRank);
                dStream[s] = arena.take((long) n * cfg.tokens(s), cfg.dim(s));
            }
            dMergeNormed = new INDArray[stages - 1];
            dMerged = new INDArray[stages - 1];
            dReductionHidden = new INDArray[stages - 1];
            for (int s = 0; s < stages - 1; s++) {
                long rows = (long) n * cfg.tokens(s + 1);
                dMergeNormed[s] = arena.take(rows, 4L * cfg.dim(s));
                dMerged[s] = arena.take(rows, 4L * cfg.dim(s));
                int r = reductions.get(s).rank;
                dReductionHidden[s] = r > 0 ? arena.take(rows, r) : null;
            }
            dNormed = arena.take(rowsLast, cfg.numFeatures());
            dEmbedded = arena.take(rows0, cfg.embedDim());
            dPooled = arena.take(n, cfg.numFeatures());
            dHeadHidden = head.rank > 0 ? arena.take(n, head.rank) : null;
        }

        public int batchSize() {
            return n;
        }

        /** The logits [N, classes] of the last forward (a buffer: overwritten by the next pass). */
        public INDArray logits() {
            return logits.out();
        }

        /** The pooled feature [N, C] of the last forward (a buffer). */
        public INDArray pooled() {
            return pooled;
        }

        private int[] order(int block) {
            return windowOrder[blockStage.get(block)][blockShifted.get(block) ? 1 : 0];
        }

        private int[] inverse(int block) {
            return windowInverse[blockStage.get(block)][blockShifted.get(block) ? 1 : 0];
        }
    }

    /** {@link #forward(Activations, INDArray, List, FdPoints)} with every block's output as features. */
    public void forward(Activations a, INDArray images, List<INDArray> features) {
        forward(a, images, features, FdPoints.BLOCKS);
    }

    /**
     * The forward pass on normalised images [N, C, H, W]; logits in {@code a.logits()}. When {@code features} is not
     * null the features of {@code points} are copied into it (shapes as {@link #featureShapes}; any shape of the
     * same length).
     */
    public void forward(Activations a, INDArray images, List<INDArray> features, FdPoints points) {
        k.pass(() -> forwardPass(a, images, features, points));
    }

    private void forwardPass(Activations a, INDArray images, List<INDArray> features, FdPoints points) {
        embed(a, images);
        INDArray x = a.embedded.out();
        int stage = 0;
        for (int i = 0; i < blocks.size(); i++) {
            if (blockStage.get(i) != stage) {
                x = merge(a, stage, x);
                stage = blockStage.get(i);
            }
            SwinBlock.Buffers b = a.blockBuffers.get(i);
            blocks.get(i).forward(k, x, b, a.order(i), a.inverse(i));
            x = b.out;
            if (features != null && points == FdPoints.BLOCKS) {
                features.get(i).assign(x.reshape(features.get(i).shape()));
            }
        }
        norm.forward(k, x, a.normed);
        int tokens = cfg.tokens(cfg.numStages() - 1);
        a.pooled.assign(a.normed.out().reshape('c', a.n, tokens, cfg.numFeatures()).mean(1));
        if (features != null && points == FdPoints.FINAL) {
            features.get(0).assign(a.pooled.reshape(features.get(0).shape()));
        }
        head.forward(k, a.pooled, a.logits);
    }

    /** The stride-p convolution as one product over flattened patches, then patch_embed.norm. */
    private void embed(Activations a, INDArray images) {
        int c = cfg.inChans();
        int p = cfg.patchSize();
        int g = cfg.resolution(0);
        a.patches6.assign(images.reshape('c', a.n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5));
        patchEmbed.forward(k, a.patches, a.patchOut);
        patchNorm.forward(k, a.patchOut.out(), a.embedded);
    }

    /** PatchMerging of stage {@code s}'s output: the 2×2 gather, norm, reduction. */
    private INDArray merge(Activations a, int s, INDArray x) {
        SwinBlock.gatherRows(x, a.mergeOrder[s], a.merged[s].reshape('c', x.size(0), x.size(1)));
        mergeNorms.get(s).forward(k, a.merged[s], a.mergeNormed[s]);
        reductions.get(s).forward(k, a.mergeNormed[s].out(), a.reduced[s]);
        return a.reduced[s].out();
    }

    /**
     * The backward pass from the gradient of the logits (after a {@link #forward} on the same activations): writes
     * every parameter's gradient (each exactly once). {@code fd}, when not null, adds the L_fd gradient at the
     * points of {@code points} (block i's output, or index 0 for the pooled feature) as the gradient passes them.
     */
    public void backward(Activations a, INDArray dLogits, Vit.BlockOutputGradient fd, FdPoints points) {
        if (!training) {
            throw new IllegalStateException("this model was built for inference (no gradients)");
        }
        k.pass(() -> backwardPass(a, dLogits, fd, points));
    }

    private void backwardPass(Activations a, INDArray dLogits, Vit.BlockOutputGradient fd, FdPoints points) {
        head.backward(k, a.pooled, a.logits, dLogits, a.dHeadHidden, a.dPooled, false);
        if (fd != null && points == FdPoints.FINAL) {
            fd.addTo(0, a.pooled, a.dPooled);
        }
        unpool(a);
        int last = cfg.numStages() - 1;
        norm.backward(k, a.dNormed, a.normed, a.dStream[last], false);
        int stage = last;
        for (int i = blocks.size() - 1; i >= 0; i--) {
            if (blockStage.get(i) != stage) {
                stage = blockStage.get(i);
                mergeBackward(a, stage);
            }
            SwinBlock.Buffers b = a.blockBuffers.get(i);
            if (fd != null && points == FdPoints.BLOCKS) {
                fd.addTo(i, b.out, a.dStream[stage]);
            }
            blocks.get(i).backward(k, b, a.grads[stage], a.dStream[stage], a.order(i), a.inverse(i));
        }
        patchNorm.backward(k, a.dStream[0], a.embedded, a.dEmbedded, false);
        patchEmbed.backward(k, a.patches, a.patchOut, a.dEmbedded, null, null, false);
    }

    /** The mean's gradient: every token of an image gets its pooled gradient over the token count. */
    private void unpool(Activations a) {
        int tokens = cfg.tokens(cfg.numStages() - 1);
        INDArray share = a.dPooled.div(tokens);
        INDArray d3 = a.dNormed.reshape('c', a.n, tokens, cfg.numFeatures());
        for (int t = 0; t < tokens; t++) {
            d3.get(NDArrayIndex.all(), NDArrayIndex.point(t), NDArrayIndex.all()).assign(share);
        }
    }

    /** From the gradient of stage s+1's input (dStream[s+1]) to that of stage s's output (dStream[s], overwritten). */
    private void mergeBackward(Activations a, int s) {
        reductions.get(s).backward(k, a.mergeNormed[s].out(), a.reduced[s], a.dStream[s + 1], a.dReductionHidden[s],
                a.dMergeNormed[s], false);
        mergeNorms.get(s).backward(k, a.dMergeNormed[s], a.mergeNormed[s], a.dMerged[s], false);
        INDArray dOut = a.dStream[s];
        SwinBlock.gatherRows(a.dMerged[s].reshape('c', dOut.size(0), dOut.size(1)), a.mergeInverse[s], dOut);
    }
}
