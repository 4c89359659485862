package ai.pela.zoo.dense;

import ai.pela.zoo.config.ModelConfig;
import java.util.List;

/**
 * UperNet on a ViT as mmseg builds it for ViT/DeiT on ADE20K ({@code upernet_vit-b16_ln_mln}): the tokens of
 * four blocks as maps, mmseg's {@code MultiLevelNeck} (1×1 lateral convs, bilinear rescale by
 * {@code neck_scales}, 3×3 convs) to strides 4/8/16/32 of a patch-16 model, then {@code UPerHead}: PPM on the top
 * level, FPN laterals, top-down path and FPN convs, fusion and a 1×1 classifier, bilinear upsampling to the input.
 *
 * @param neckChannels MultiLevelNeck's out_channels (mmseg: the embedding width)
 * @param neckScales   MultiLevelNeck's scales, one per taken block (mmseg: 4, 2, 1, 0.5)
 * @param channels     UPerHead's channels (mmseg: 512)
 * @param poolScales   PPM's pool scales (mmseg: 1, 2, 3, 6)
 * @param gnGroups     GroupNorm groups of the head's ConvModules (see {@link UperNet} on the norm)
 * @param classNames   names of the classes for the metrics (may be empty)
 */
public record UperNetConfig(int imgSize, List<Integer> outIndices, boolean finalNorm, int neckChannels,
        List<Double> neckScales, int channels, List<Integer> poolScales, int numClasses, int gnGroups,
        List<String> classNames) implements HeadConfig {
    public static final String TYPE = "upernet";

    public UperNetConfig {
        outIndices = List.copyOf(outIndices);
        neckScales = List.copyOf(neckScales);
        poolScales = List.copyOf(poolScales);
        classNames = List.copyOf(classNames);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * mmseg's ViT-B UperNet scaled to a backbone: blocks at depth/4, /2, 3/4 and the last, final norm, neck
     * width = embedding width, 512 head channels (or the embedding width, if smaller), 32 GroupNorm groups (fewer if
     * the widths need it).
     */
    public static UperNetConfig defaults(ModelConfig backbone, int imgSize, int numClasses) {
        int d = backbone.depth();
        List<Integer> idx = List.of(Math.max(0, d / 4 - 1), Math.max(0, d / 2 - 1), Math.max(0, 3 * d / 4 - 1), d - 1);
        int channels = Math.min(512, backbone.embedDim());
        return new UperNetConfig(imgSize, idx, true, backbone.embedDim(), List.of(4.0, 2.0, 1.0, 0.5), channels,
                List.of(1, 2, 3, 6), numClasses, groupsFor(channels), List.of());
    }

    static int groupsFor(int channels) {
        int g = 32;
        while (channels % g != 0) {
            g /= 2;
        }
        return g;
    }
}
