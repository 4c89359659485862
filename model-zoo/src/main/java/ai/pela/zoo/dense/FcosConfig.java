package ai.pela.zoo.dense;

import ai.pela.zoo.config.ModelConfig;
import java.util.List;

/**
 * A one-stage anchor-free detector on a ViT: ViTDet's simple feature pyramid from the last block
 * ({@code sfp_scales}: 4 → two 2×2 transposed convs, 2 → one, 1 → identity, 0.5 → 2×2 max pooling; then a 1×1
 * and a 3×3 conv with channel LayerNorm) and mmdet's FCOS head with its improvements (GroupNorm towers shared
 * across levels, centre sampling, centerness on the regression branch, box distances normalised by the stride,
 * GIoU loss, focal loss). See {@link Fcos}.
 *
 * @param sfpScales     pyramid levels as scales of the patch grid; level strides are patch_size / scale
 * @param channels      width of the pyramid and of the towers (mmdet/ViTDet: 256)
 * @param stackedConvs  convs per tower (mmdet: 4)
 * @param regressRanges per level [min, max] of the largest box-side distance a level is responsible for
 *                      (mmdet: (−1, 64), (64, 128), … for strides 8 …; the last max may be 1e8)
 * @param centerRadius  centre sampling radius in strides (mmdet: 1.5)
 * @param categoryIds   the dataset's category id of each class index (COCO's ids are not contiguous)
 */
public record FcosConfig(int imgSize, int outIndex, List<Double> sfpScales, int channels, int stackedConvs,
        int numClasses, int gnGroups, List<List<Double>> regressRanges, double centerRadius, double focalAlpha,
        double focalGamma, double scoreThreshold, int nmsPre, double nmsIou, int maxPerImage,
        List<Integer> categoryIds) implements HeadConfig {
    public static final String TYPE = "fcos";

    public FcosConfig {
        sfpScales = List.copyOf(sfpScales);
        regressRanges = regressRanges.stream().map(List::copyOf).toList();
        categoryIds = List.copyOf(categoryIds);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** ViTDet takes the last block only. */
    @Override
    public List<Integer> outIndices() {
        return List.of(outIndex);
    }

    /** ViTDet's pyramid reads the last block's tokens without the final norm. */
    @Override
    public boolean finalNorm() {
        return false;
    }

    /** The stride of each level in input pixels: patch_size / scale. */
    public double[] strides(ModelConfig backbone) {
        double[] s = new double[sfpScales.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = backbone.patchSize() / sfpScales.get(i);
        }
        return s;
    }

    /** Each level's side in cells: the patch grid scaled (max pooling floors odd sides). */
    public int[] levelSides(ModelConfig backbone) {
        int grid = imgSize / backbone.patchSize();
        int[] s = new int[sfpScales.size()];
        for (int i = 0; i < s.length; i++) {
            double scale = sfpScales.get(i);
            s[i] = scale >= 1 ? (int) (grid * scale) : grid / 2;
        }
        return s;
    }

    /**
     * mmdet's FCOS settings on ViTDet's four levels: ranges 8× the stride apart as mmdet's (−1, 64, 128, 256, ∞) are
     * for strides 8–64, 256 channels, 4 convs per tower, focal α 0.25 γ 2, test: score 0.05, 1000 per level,
     * NMS IoU 0.5, 100 per image.
     */
    public static FcosConfig defaults(ModelConfig backbone, int imgSize, List<Integer> categoryIds) {
        List<Double> scales = List.of(4.0, 2.0, 1.0, 0.5);
        List<List<Double>> ranges = new java.util.ArrayList<>();
        double lo = -1;
        for (int i = 0; i < scales.size(); i++) {
            double stride = backbone.patchSize() / scales.get(i);
            double hi = i == scales.size() - 1 ? 1e8 : 8 * stride;
            ranges.add(List.of(lo, hi));
            lo = hi;
        }
        return new FcosConfig(imgSize, backbone.depth() - 1, scales, 256, 4, categoryIds.size(), 32, ranges, 1.5,
                0.25, 2.0, 0.05, 1000, 0.5, 100, categoryIds);
    }
}
