package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitGraph;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The ViT under a dense head: a teacher, a naive low-rank or a PELA student (the low-rank layout comes with the
 * config's {@code lowrank} block), run at the head's input size, with its parameters under {@value #PREFIX} and
 * timm's names. Only what the head uses is kept: no classifier, the final norm only when the head applies it, and
 * no block after the deepest one the head reads — parameters without a gradient have no place in the optimiser.
 */
public final class Backbone {
    public static final String PREFIX = "backbone.";

    private Backbone() {
    }

    /** Checkpoint keys (with the prefix) and shapes of the backbone of {@code head} on {@code vit}. */
    static Map<String, long[]> parameterShapes(ModelConfig vit, HeadConfig head) {
        ModelConfig atSize = vit.withImgSize(head.imgSize());
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : VitLayout.parameterShapes(atSize).entrySet()) {
            if (uses(e.getKey(), vit, head)) {
                out.put(PREFIX + e.getKey(), e.getValue());
            }
        }
        return out;
    }

    private static boolean uses(String key, ModelConfig vit, HeadConfig head) {
        if (key.startsWith("head.")) {
            return false;
        }
        if (key.startsWith("norm.")) {
            return appliesFinalNorm(vit, head);
        }
        if (key.startsWith("blocks.")) {
            int block = Integer.parseInt(key.substring(7, key.indexOf('.', 7)));
            return block <= head.lastBlock();
        }
        return true;
    }

    /** mmseg applies final_norm to the last block's output; it matters only when the head reads that block. */
    static boolean appliesFinalNorm(ModelConfig vit, HeadConfig head) {
        return head.finalNorm() && head.lastBlock() == vit.depth() - 1;
    }

    /**
     * Backbone weights from a classification checkpoint of {@code vit} (as {@code compress} or training wrote it):
     * the parameters the head uses, prefixed, with pos_embed resized to the head's grid as mmseg's
     * {@code resize_pos_embed} does (bicubic, align_corners=False; the class token's entry is kept).
     */
    public static StateDict fromClassifier(ModelConfig vit, StateDict weights, HeadConfig head, String source) {
        weights.checkMatches(source, VitLayout.parameterShapes(vit));
        int toGrid = head.imgSize() / vit.patchSize();
        StateDict out = new StateDict();
        for (String key : weights.keys()) {
            if (!uses(key, vit, head)) {
                continue;
            }
            INDArray a = weights.get(key).castTo(DataType.FLOAT);
            if (key.equals("pos_embed")) {
                a = resizePosEmbed(a, vit.noEmbedClass() ? 0 : vit.numPrefixTokens(), vit.gridSize(), toGrid);
            }
            out.put(PREFIX + key, a);
        }
        return out;
    }

    /** pos_embed [1, prefix + g², D] → [1, prefix + g'², D], the grid part resized bicubically. */
    static INDArray resizePosEmbed(INDArray pos, int prefixTokens, int fromGrid, int toGrid) {
        if (fromGrid == toGrid) {
            return pos.dup();
        }
        long d = pos.size(2);
        INDArray grid = pos.get(NDArrayIndex.point(0), NDArrayIndex.interval(prefixTokens, pos.size(1)),
                NDArrayIndex.all()).reshape(fromGrid, (long) fromGrid * d); // [y, x·D]
        INDArray mh = Interp.bicubic(fromGrid, toGrid);
        INDArray rows = mh.mmul(grid).reshape(toGrid, fromGrid, d);   // [y', x, D]
        INDArray cols = Nd4j.create(DataType.FLOAT, toGrid, toGrid, d);
        for (int y = 0; y < toGrid; y++) {
            cols.get(NDArrayIndex.point(y)).assign(mh.mmul(rows.get(NDArrayIndex.point(y)))); // [x', D]
        }
        INDArray out = Nd4j.create(DataType.FLOAT, 1, prefixTokens + (long) toGrid * toGrid, d);
        if (prefixTokens > 0) {
            out.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, prefixTokens), NDArrayIndex.all())
                    .assign(pos.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, prefixTokens), NDArrayIndex.all()));
        }
        out.get(NDArrayIndex.point(0), NDArrayIndex.interval(prefixTokens, out.size(1)), NDArrayIndex.all())
                .assign(cols.reshape((long) toGrid * toGrid, d));
        return out;
    }

    /**
     * Builds the backbone on {@code input} and returns the maps [N, D, g, g] of the head's blocks (patch tokens
     * only, in row-major patch order, as mmseg reshapes them).
     *
     * @param weights the dense model's checkpoint (keys with the prefix)
     */
    static List<Fmap> features(DenseOps ops, ModelConfig vit, HeadConfig head, StateDict weights, boolean trainable,
            SDVariable input) {
        ModelConfig cfg = vit.withImgSize(head.imgSize());
        SameDiff sd = ops.sd();
        VitGraph.Handles h = VitGraph.buildBlocks(sd, cfg, unprefixed(weights), trainable, input, PREFIX,
                head.lastBlock() + 1);
        int d = cfg.embedDim();
        int g = cfg.gridSize();
        int t = cfg.numTokens();
        List<Fmap> maps = new ArrayList<>();
        for (int i : head.outIndices()) {
            SDVariable tokens = h.blockOutputs().get(i);
            if (i == vit.depth() - 1 && appliesFinalNorm(vit, head)) {
                tokens = sd.reshape(ops.layerNormRows(sd.reshape(tokens, -1, d), PREFIX + "norm", d), -1, t, d);
            }
            SDVariable patches = tokens.get(SDIndex.all(), SDIndex.interval(cfg.numPrefixTokens(), t), SDIndex.all());
            SDVariable map = sd.reshape(sd.permute(patches, 0, 2, 1), -1, d, g, g);
            maps.add(new Fmap(map, d, g, g));
        }
        return maps;
    }

    private static StateDict unprefixed(StateDict weights) {
        StateDict out = new StateDict();
        for (String k : weights.keys()) {
            if (k.startsWith(PREFIX)) {
                out.put(k.substring(PREFIX.length()), weights.get(k));
            }
        }
        if (out.size() == 0) {
            throw new PelaException("checkpoint has no backbone tensors (keys starting with '" + PREFIX + "')");
        }
        return out;
    }
}
