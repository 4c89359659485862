package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import java.util.List;

/**
 * A dense head on a ViT backbone, as read from a model directory's {@code head.json} (see {@link HeadJson}).
 * Both heads run the backbone at {@link #imgSize()} (pos_embed resized to it) and take the maps of the blocks
 * {@link #outIndices()}.
 */
public sealed interface HeadConfig extends java.io.Serializable permits UperNetConfig, FcosConfig {
    /** {@code "upernet"} or {@code "fcos"}: the {@code type} field of head.json. */
    String type();

    /** The square input side the dense model runs at, a multiple of the backbone's patch size. */
    int imgSize();

    /** The blocks whose output tokens feed the head, ascending. */
    List<Integer> outIndices();

    /** mmseg's {@code final_norm}: the backbone's final LayerNorm on the last block's output, if that one is taken. */
    boolean finalNorm();

    int numClasses();

    /** Checks the head against its backbone; fails naming {@code source} and the field. */
    default void checkBackbone(ModelConfig backbone, String source) {
        if (imgSize() % backbone.patchSize() != 0) {
            throw new PelaException(source + ": field 'img_size' " + imgSize() + " is not a multiple of the backbone's"
                    + " patch_size " + backbone.patchSize());
        }
        for (int i : outIndices()) {
            if (i < 0 || i >= backbone.depth()) {
                throw new PelaException(source + ": field 'out_indices' has block " + i + " but the backbone has "
                        + backbone.depth() + " blocks (0.." + (backbone.depth() - 1) + ")");
            }
        }
    }

    /** The deepest block the head uses: the backbone is built up to it and no further. */
    default int lastBlock() {
        return outIndices().get(outIndices().size() - 1);
    }
}
