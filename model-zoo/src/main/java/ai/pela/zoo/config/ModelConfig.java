package ai.pela.zoo.config;

import ai.pela.zoo.PelaException;
import java.util.List;

/**
 * A Vision Transformer's architecture in timm's vocabulary (the fields of timm's {@code VisionTransformer}
 * constructor and of the {@code config.json} timm writes), plus the low-rank block of a PELA student.
 *
 * @param architecture  the preset name this config started from, or {@code "vit"} for an explicit one
 * @param initValues    LayerScale init ({@code blocks.i.ls1.gamma}); null when the model has no LayerScale (DeiT-III has it)
 * @param noEmbedClass  true when pos_embed covers only the patch tokens and the class token is added after (DeiT-III)
 * @param mean          per-channel normalisation mean of the model's input
 * @param std           per-channel normalisation std of the model's input
 * @param numClasses    classes of the head; 0 for no head (timm's convention; ALBEF's image encoder)
 * @param lowrank       null for a dense model; the decomposition of a PELA student otherwise
 */
public record ModelConfig(
        String architecture,
        int imgSize,
        int patchSize,
        int inChans,
        int embedDim,
        int depth,
        int numHeads,
        double mlpRatio,
        int numClasses,
        String globalPool,
        boolean classToken,
        boolean qkvBias,
        Double initValues,
        boolean noEmbedClass,
        List<Double> mean,
        List<Double> std,
        LowRankSpec lowrank) implements java.io.Serializable {

    public static final List<Double> IMAGENET_MEAN = List.of(0.485, 0.456, 0.406);
    public static final List<Double> IMAGENET_STD = List.of(0.229, 0.224, 0.225);

    public ModelConfig {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    /** Fails with a message naming the first inconsistent field. */
    public ModelConfig validate(String source) {
        positive(source, "img_size", imgSize);
        positive(source, "patch_size", patchSize);
        positive(source, "in_chans", inChans);
        positive(source, "embed_dim", embedDim);
        positive(source, "depth", depth);
        positive(source, "num_heads", numHeads);
        if (numClasses < 0) {
            throw fieldError(source, "num_classes", "must be 0 (no head) or a positive integer, got " + numClasses);
        }
        if (!(mlpRatio > 0) || Double.isInfinite(mlpRatio)) {
            throw fieldError(source, "mlp_ratio", "must be a positive number, got " + mlpRatio);
        }
        if (imgSize % patchSize != 0) {
            throw fieldError(source, "img_size", imgSize + " is not divisible by patch_size " + patchSize);
        }
        if (embedDim % numHeads != 0) {
            throw fieldError(source, "embed_dim", embedDim + " is not divisible by num_heads " + numHeads);
        }
        if (!globalPool.equals("token") && !globalPool.equals("avg")) {
            throw fieldError(source, "global_pool", "must be \"token\" or \"avg\", got \"" + globalPool + "\"");
        }
        if (globalPool.equals("token") && !classToken) {
            throw fieldError(source, "global_pool", "\"token\" pooling needs class_token = true");
        }
        if (mean.size() != inChans || std.size() != inChans) {
            throw fieldError(source, "mean", "mean and std need in_chans = " + inChans + " values each");
        }
        if (lowrank != null && !(lowrank.kappa() > 0)) {
            throw fieldError(source, "lowrank.kappa", "must be > 0, got " + lowrank.kappa());
        }
        return this;
    }

    private static void positive(String source, String field, int value) {
        if (value <= 0) {
            throw fieldError(source, field, "must be a positive integer, got " + value);
        }
    }

    public static PelaException fieldError(String source, String field, String problem) {
        return new PelaException(source + ": field '" + field + "' " + problem);
    }

    public int gridSize() {
        return imgSize / patchSize;
    }

    public int numPatches() {
        return gridSize() * gridSize();
    }

    /** Number of prefix tokens (the class token) before the patch tokens. */
    public int numPrefixTokens() {
        return classToken ? 1 : 0;
    }

    /** Tokens every block sees: patches plus the class token. */
    public int numTokens() {
        return numPatches() + numPrefixTokens();
    }

    /** Tokens covered by pos_embed. */
    public int posEmbedTokens() {
        return noEmbedClass ? numPatches() : numTokens();
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    public int mlpHiddenDim() {
        return (int) (embedDim * mlpRatio);
    }

    /** timm's {@code num_classes=0}: no classifier head, the model ends with the final norm (ALBEF's image encoder). */
    public boolean hasHead() {
        return numClasses > 0;
    }

    public boolean hasLayerScale() {
        return initValues != null;
    }

    public ModelConfig withLowRank(LowRankSpec spec) {
        return new ModelConfig(architecture, imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio,
                numClasses, globalPool, classToken, qkvBias, initValues, noEmbedClass, mean, std, spec);
    }

    /** The same network at another input size (a dense model's backbone); pos_embed then needs resizing. */
    public ModelConfig withImgSize(int size) {
        return new ModelConfig(architecture, size, patchSize, inChans, embedDim, depth, numHeads, mlpRatio,
                numClasses, globalPool, classToken, qkvBias, initValues, noEmbedClass, mean, std, lowrank);
    }

    public ModelConfig withNumClasses(int n) {
        return new ModelConfig(architecture, imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio,
                n, globalPool, classToken, qkvBias, initValues, noEmbedClass, mean, std, lowrank);
    }
}
