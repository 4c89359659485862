package ai.pela.zoo.dense;

import java.util.ArrayList;
import java.util.List;

/**
 * mmseg's ViT-UperNet decoder as a SameDiff graph, with mmseg's checkpoint keys: {@code neck.lateral_convs.i.conv},
 * {@code neck.convs.i.conv} (MultiLevelNeck, no norm, with bias), {@code decode_head.psp_modules.j.1},
 * {@code decode_head.bottleneck}, {@code decode_head.lateral_convs.i}, {@code decode_head.fpn_convs.i},
 * {@code decode_head.fpn_bottleneck} (ConvModules: conv + norm + ReLU) and {@code decode_head.conv_seg}.
 *
 * <p>Norm: mmseg trains UPerHead with SyncBN. Here the ConvModules use GroupNorm ({@code .gn.weight/bias} as mmcv
 * names it), because parameter averaging cannot synchronise batch statistics: each worker would normalise with
 * the statistics of its own few images per step and the averaged running statistics would not belong to any of
 * the averaged weights; GroupNorm has no batch statistics, so training and inference compute the same function.
 * Also left out, for the same reason of one deterministic function: dropout before conv_seg (0.1 in mmseg) and
 * the auxiliary FCN head (a training-only loss on block 3).
 */
final class UperNet {
    static final String NECK = "neck.";
    static final String HEAD = "decode_head.";

    private UperNet() {
    }

    /** Logits [N, classes, imgSize, imgSize] from the backbone's maps. */
    static Fmap build(DenseOps ops, List<Fmap> features, UperNetConfig c) {
        List<Fmap> levels = neck(ops, features, c);
        Fmap fused = decode(ops, levels, c);
        Fmap logits = ops.conv(fused, HEAD + "conv_seg", c.numClasses(), 1, true);
        return ops.resize(logits, c.imgSize(), c.imgSize());
    }

    /** MultiLevelNeck: 1×1 lateral conv per input, bilinear rescale by its scale, 3×3 conv. */
    private static List<Fmap> neck(DenseOps ops, List<Fmap> features, UperNetConfig c) {
        List<Fmap> lateral = new ArrayList<>();
        for (int i = 0; i < features.size(); i++) {
            lateral.add(ops.conv(features.get(i), NECK + "lateral_convs." + i + ".conv", c.neckChannels(), 1, true));
        }
        List<Fmap> out = new ArrayList<>();
        for (int i = 0; i < c.neckScales().size(); i++) {
            // mmseg repeats a single input for every output scale.
            Fmap x = lateral.size() == 1 ? lateral.get(0) : lateral.get(i);
            Fmap resized = ops.rescale(x, c.neckScales().get(i));
            out.add(ops.conv(resized, NECK + "convs." + i + ".conv", c.neckChannels(), 3, true));
        }
        return out;
    }

    /** UPerHead._forward_feature: PPM on the top level, FPN laterals, top-down sums, FPN convs, fusion. */
    private static Fmap decode(DenseOps ops, List<Fmap> in, UperNetConfig c) {
        int n = in.size();
        List<Fmap> laterals = new ArrayList<>();
        for (int i = 0; i < n - 1; i++) {
            laterals.add(ops.convGnRelu(in.get(i), HEAD + "lateral_convs." + i, c.channels(), 1, c.gnGroups()));
        }
        laterals.add(psp(ops, in.get(n - 1), c));
        for (int i = n - 1; i > 0; i--) {
            Fmap prev = laterals.get(i - 1);
            laterals.set(i - 1, ops.add(prev, ops.resize(laterals.get(i), prev.h(), prev.w())));
        }
        List<Fmap> outs = new ArrayList<>();
        for (int i = 0; i < n - 1; i++) {
            outs.add(ops.convGnRelu(laterals.get(i), HEAD + "fpn_convs." + i, c.channels(), 3, c.gnGroups()));
        }
        outs.add(laterals.get(n - 1));
        Fmap first = outs.get(0);
        for (int i = n - 1; i > 0; i--) {
            outs.set(i, ops.resize(outs.get(i), first.h(), first.w()));
        }
        return ops.convGnRelu(ops.concat(outs), HEAD + "fpn_bottleneck", c.channels(), 3, c.gnGroups());
    }

    /** PPM: per pool scale adaptive average pooling, 1×1 ConvModule, bilinear back; concatenated with the input. */
    private static Fmap psp(DenseOps ops, Fmap x, UperNetConfig c) {
        List<Fmap> parts = new ArrayList<>();
        parts.add(x);
        for (int j = 0; j < c.poolScales().size(); j++) {
            Fmap pooled = ops.adaptiveAvgPool(x, c.poolScales().get(j));
            Fmap conv = ops.convGnRelu(pooled, HEAD + "psp_modules." + j + ".1", c.channels(), 1, c.gnGroups());
            parts.add(ops.resize(conv, x.h(), x.w()));
        }
        return ops.convGnRelu(ops.concat(parts), HEAD + "bottleneck", c.channels(), 3, c.gnGroups());
    }
}
