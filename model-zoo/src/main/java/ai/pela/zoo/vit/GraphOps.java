package ai.pela.zoo.vit;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * LayerNorm and GELU written out from primitive ops, shared by the ViT, BERT and dense-head graphs. Written out
 * because ND4J 1.0.0-M2.1's fused ops use another epsilon (layer_norm) and the tanh/sigmoid approximation (gelu),
 * while the timm and Hugging Face checkpoints need eps 1e-6/1e-12 and the exact erf GELU.
 */
public final class GraphOps {
    private GraphOps() {
    }

    /** (x − mean) / sqrt(var + eps) along {@code axis}, the biased variance as torch's layer and group norms use. */
    public static SDVariable standardise(SameDiff sd, SDVariable x, int axis, double eps) {
        SDVariable centred = centre(x, axis);
        return centred.mul(inverseStd(sd, centred, axis, eps));
    }

    /** x − mean along {@code axis} (kept as a size-1 axis). */
    public static SDVariable centre(SDVariable x, int axis) {
        return x.sub(x.mean(true, axis));
    }

    /** 1 / sqrt(var + eps) of already centred values along {@code axis} (kept as a size-1 axis). */
    public static SDVariable inverseStd(SameDiff sd, SDVariable centred, int axis, double eps) {
        return sd.math().rsqrt(centred.mul(centred).mean(true, axis).add(eps));
    }

    /** LayerNorm over the last axis of [M, d] rows. */
    public static SDVariable layerNorm(SameDiff sd, SDVariable x, SDVariable weight, SDVariable bias, double eps) {
        return standardise(sd, x, 1, eps).mul(weight).add(bias);
    }

    /** Exact GELU: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)), as torch.nn.GELU() computes it. */
    public static SDVariable gelu(SameDiff sd, SDVariable x) {
        return x.mul(sd.math().erf(x.mul(1.0 / Math.sqrt(2.0))).add(1.0)).mul(0.5);
    }
}
