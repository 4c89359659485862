package ai.pela.zoo.dense;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * ViTDet's simple feature pyramid and mmdet's FCOS head as a SameDiff graph, with detectron2's and mmdet's keys:
 * {@code neck.simfp_{k}.{i}} (k = detectron2's stage, 2 for scale 4 … 5 for scale 0.5; transposed convs, channel
 * LayerNorm, and the 1×1 / 3×3 convs with {@code .norm}), {@code bbox_head.cls_convs.i} and
 * {@code bbox_head.reg_convs.i} (conv + GroupNorm + ReLU, shared by all levels), {@code bbox_head.conv_cls},
 * {@code bbox_head.conv_reg}, {@code bbox_head.conv_centerness} and one learnt {@code bbox_head.scales.l.scale}
 * per level.
 *
 * <p>Why this detector: one stage and anchor-free, so its targets are a per-point assignment computed on the
 * executor ({@link FcosTargets}) and its loss is three dense terms — no proposals, RoI pooling or sampling, which a
 * static SameDiff graph could not express; and ViTDet's pyramid is how a plain ViT (PELA's backbones) is put under
 * a detector without changing the backbone.
 *
 * <p>Outputs, flattened over images, levels and pixels (image-major, then level, then row-major pixels, the order
 * of {@link FcosTargets}): {@value #CLS} [P, classes] logits, {@value #REG} [P, 4] the (l, t, r, b) distances in
 * units of the level's stride (ReLU'd: mmdet's norm_on_bbox), {@value #CTR} [P, 1] centerness logits.
 */
final class Fcos {
    static final String NECK = "neck.";
    static final String HEAD = "bbox_head.";
    static final String CLS = "fcos.cls";
    static final String REG = "fcos.reg";
    static final String CTR = "fcos.ctr";

    private Fcos() {
    }

    record Outputs(SDVariable cls, SDVariable reg, SDVariable ctr) {
    }

    static Outputs build(DenseOps ops, Fmap last, FcosConfig c) {
        SameDiff sd = ops.sd();
        List<SDVariable> cls = new ArrayList<>();
        List<SDVariable> reg = new ArrayList<>();
        List<SDVariable> ctr = new ArrayList<>();
        for (int l = 0; l < c.sfpScales().size(); l++) {
            Fmap p = pyramidLevel(ops, last, c.sfpScales().get(l), c.channels());
            Fmap clsFeat = tower(ops, p, "cls_convs", c);
            Fmap regFeat = tower(ops, p, "reg_convs", c);
            cls.add(ops.pixelsLast(ops.conv(clsFeat, HEAD + "conv_cls", c.numClasses(), 3, true)));
            Fmap box = ops.conv(regFeat, HEAD + "conv_reg", 4, 3, true);
            SDVariable scaled = box.v().mul(ops.params().get(HEAD + "scales." + l + ".scale", 1));
            reg.add(ops.pixelsLast(new Fmap(sd.nn().relu(scaled, 0), 4, box.h(), box.w())));
            ctr.add(ops.pixelsLast(ops.conv(regFeat, HEAD + "conv_centerness", 1, 3, true)));
        }
        return new Outputs(flat(sd, CLS, cls, c.numClasses()), flat(sd, REG, reg, 4), flat(sd, CTR, ctr, 1));
    }

    private static SDVariable flat(SameDiff sd, String name, List<SDVariable> levels, int width) {
        SDVariable all = levels.size() == 1 ? levels.get(0) : sd.concat(1, levels.toArray(SDVariable[]::new));
        return sd.reshape(name, all, -1, width);
    }

    /** detectron2's SimpleFeaturePyramid stage for one scale, ending in channels c. */
    private static Fmap pyramidLevel(DenseOps ops, Fmap x, double scale, int c) {
        int stage = 4 - (int) Math.round(Math.log(scale) / Math.log(2));
        String p = NECK + "simfp_" + stage + ".";
        int d = x.c();
        int next;
        Fmap y;
        if (scale == 4.0) {
            y = ops.deconv2(x, p + "0", d / 2);
            y = ops.gelu(ops.layerNorm2d(y, p + "1"));
            y = ops.deconv2(y, p + "3", d / 4);
            next = 4;
        } else if (scale == 2.0) {
            y = ops.deconv2(x, p + "0", d / 2);
            next = 1;
        } else if (scale == 1.0) {
            y = x;
            next = 0;
        } else {
            y = ops.maxPool2(x);
            next = 1;
        }
        y = ops.layerNorm2d(ops.conv(y, p + next, c, 1, false), p + next + ".norm");
        return ops.layerNorm2d(ops.conv(y, p + (next + 1), c, 3, false), p + (next + 1) + ".norm");
    }

    private static Fmap tower(DenseOps ops, Fmap x, String name, FcosConfig c) {
        Fmap y = x;
        for (int i = 0; i < c.stackedConvs(); i++) {
            y = ops.convGnRelu(y, HEAD + name + "." + i, c.channels(), 3, c.gnGroups());
        }
        return y;
    }
}
