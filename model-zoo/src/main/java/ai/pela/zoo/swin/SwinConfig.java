package ai.pela.zoo.swin;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import java.util.List;

/**
 * A Swin Transformer's architecture in timm's vocabulary (the fields of timm's {@code SwinTransformer}), plus the
 * low-rank block of a PELA student. Semantics are the official code's (microsoft/Swin-Transformer): stage s works at
 * resolution {@code (img/patch) / 2^s} with {@code embed_dim · 2^s} channels; where a stage's resolution is not
 * larger than the window, the window is the resolution and no block shifts.
 *
 * @param architecture the preset name this config started from, or {@code "swin"} for an explicit one
 * @param depths       blocks per stage
 * @param numHeads     attention heads per stage
 * @param lowrank      null for a dense model; the decomposition of a PELA student otherwise
 */
public record SwinConfig(
        String architecture,
        int imgSize,
        int patchSize,
        int inChans,
        int embedDim,
        List<Integer> depths,
        List<Integer> numHeads,
        int windowSize,
        double mlpRatio,
        int numClasses,
        boolean qkvBias,
        List<Double> mean,
        List<Double> std,
        LowRankSpec lowrank) implements java.io.Serializable {

    /** The official code's LayerNorm eps (PyTorch's default). */
    public static final double LN_EPS = 1e-5;
    /** The additive mask between tokens of different regions in a shifted window. */
    public static final float SHIFT_MASK = -100f;

    public SwinConfig {
        depths = List.copyOf(depths);
        numHeads = List.copyOf(numHeads);
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    /** Fails with a message naming {@code source} and the first inconsistent field. */
    public SwinConfig validate(String source) {
        positive(source, "img_size", imgSize);
        positive(source, "patch_size", patchSize);
        positive(source, "in_chans", inChans);
        positive(source, "embed_dim", embedDim);
        positive(source, "window_size", windowSize);
        if (depths.isEmpty() || depths.size() != numHeads.size()) {
            throw ModelConfig.fieldError(source, "depths", "and num_heads must be non-empty lists of the same length, got "
                    + depths + " and " + numHeads);
        }
        for (int s = 0; s < numStages(); s++) {
            positive(source, "depths[" + s + "]", depths.get(s));
            positive(source, "num_heads[" + s + "]", numHeads.get(s));
        }
        if (numClasses < 0) {
            throw ModelConfig.fieldError(source, "num_classes", "must be 0 (no head) or a positive integer, got " + numClasses);
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio)) {
            throw ModelConfig.fieldError(source, "mlp_ratio", "must be a positive number, got " + mlpRatio);
        }
        if (imgSize % patchSize != 0) {
            throw ModelConfig.fieldError(source, "img_size", imgSize + " is not divisible by patch_size " + patchSize);
        }
        for (int s = 0; s < numStages(); s++) {
            int res = resolution(s);
            if (s < numStages() - 1 && res % 2 != 0) {
                throw ModelConfig.fieldError(source, "img_size", "stage " + s + " works at " + res + "x" + res
                        + ", which patch merging cannot halve");
            }
            if (res % window(s) != 0) {
                throw ModelConfig.fieldError(source, "window_size", "stage " + s + " works at " + res + "x" + res
                        + ", not a multiple of its window " + window(s));
            }
            if (dim(s) % numHeads.get(s) != 0) {
                throw ModelConfig.fieldError(source, "num_heads", "stage " + s + ": " + dim(s)
                        + " channels are not divisible by " + numHeads.get(s) + " heads");
            }
        }
        if (mean.size() != inChans || std.size() != inChans) {
            throw ModelConfig.fieldError(source, "mean", "mean and std need in_chans = " + inChans + " values each");
        }
        if (lowrank != null && !(lowrank.kappa() > 0)) {
            throw ModelConfig.fieldError(source, "lowrank.kappa", "must be > 0, got " + lowrank.kappa());
        }
        return this;
    }

    private static void positive(String source, String field, int value) {
        if (value <= 0) {
            throw ModelConfig.fieldError(source, field, "must be a positive integer, got " + value);
        }
    }

    public int numStages() {
        return depths.size();
    }

    /** Blocks over all stages: the number of feature-distillation points in "blocks" mode. */
    public int numBlocks() {
        return depths.stream().mapToInt(Integer::intValue).sum();
    }

    /** Channels of stage {@code s}. */
    public int dim(int s) {
        return embedDim << s;
    }

    /** Side of stage {@code s}'s token grid. */
    public int resolution(int s) {
        return (imgSize / patchSize) >> s;
    }

    /** Tokens per image in stage {@code s}. */
    public int tokens(int s) {
        return resolution(s) * resolution(s);
    }

    /** Window side of stage {@code s}: the configured window, or the resolution where that is not larger. */
    public int window(int s) {
        return Math.min(windowSize, resolution(s));
    }

    /** Cyclic shift of block {@code j} of stage {@code s}: odd blocks shift by half a window, unless the window is the whole grid. */
    public int shift(int s, int j) {
        return j % 2 == 1 && resolution(s) > windowSize ? windowSize / 2 : 0;
    }

    public int heads(int s) {
        return numHeads.get(s);
    }

    public int headDim(int s) {
        return dim(s) / heads(s);
    }

    public int mlpHiddenDim(int s) {
        return (int) (dim(s) * mlpRatio);
    }

    /** Channels after the last stage: the final norm's and the head's input. */
    public int numFeatures() {
        return dim(numStages() - 1);
    }

    public boolean hasHead() {
        return numClasses > 0;
    }

    public SwinConfig withLowRank(LowRankSpec spec) {
        return new SwinConfig(architecture, imgSize, patchSize, inChans, embedDim, depths, numHeads, windowSize,
                mlpRatio, numClasses, qkvBias, mean, std, spec);
    }

    public SwinConfig withNumClasses(int n) {
        return new SwinConfig(architecture, imgSize, patchSize, inChans, embedDim, depths, numHeads, windowSize,
                mlpRatio, n, qkvBias, mean, std, lowrank);
    }
}
