package ai.pela.zoo.dense;

import ai.pela.zoo.vit.GraphOps;
import java.util.List;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;

/**
 * The layers of the dense heads as SameDiff ops on NCHW maps, with PyTorch's parameter layouts and names: a
 * convolution's weight is {@code [out, in, k, k]} (permuted to ND4J's [k, k, in, out] inside the graph, so
 * checkpoints keep PyTorch's layout), a transposed convolution's {@code [in, out, 2, 2]}.
 *
 * <p>Resizing and adaptive pooling are matmuls with {@link Interp}'s matrices; the 2×2 transposed convolution is
 * a matmul and a pixel shuffle; max pooling a reshape and a max. Only matmul, conv2d, reshape, permute and
 * elementwise ops are differentiated, all of which SameDiff 1.0.0-M2.1 differentiates correctly.
 */
final class DenseOps {
    static final double GN_EPS = 1e-5;
    static final double LN_EPS = 1e-6;

    private final SameDiff sd;
    private final Params params;

    DenseOps(SameDiff sd, Params params) {
        this.sd = sd;
        this.params = params;
    }

    SameDiff sd() {
        return sd;
    }

    Params params() {
        return params;
    }

    /** {@code nn.Conv2d(in, out, k, padding=k/2)}: {@code name.weight} [out, in, k, k], {@code name.bias} [out]. */
    Fmap conv(Fmap x, String name, int out, int k, boolean bias) {
        SDVariable w = sd.permute(params.get(name + ".weight", out, x.c(), k, k), 2, 3, 1, 0);
        int pad = k / 2;
        Conv2DConfig cfg = Conv2DConfig.builder().kH(k).kW(k).sH(1).sW(1).pH(pad).pW(pad).dH(1).dW(1)
                .paddingMode(PaddingMode.VALID).dataFormat(Conv2DConfig.NCHW).build();
        SDVariable b = bias ? params.get(name + ".bias", out) : null;
        SDVariable y = b == null ? sd.cnn().conv2d(x.v(), w, cfg) : sd.cnn().conv2d(x.v(), w, b, cfg);
        return new Fmap(y, out, x.h(), x.w());
    }

    /**
     * mmcv's {@code ConvModule} with GroupNorm and ReLU: {@code name.conv.weight} (no bias, as mmcv leaves it out
     * before a norm), {@code name.gn.weight/bias}.
     */
    Fmap convGnRelu(Fmap x, String name, int out, int k, int groups) {
        Fmap y = conv(x, name + ".conv", out, k, false);
        return relu(groupNorm(y, name + ".gn", groups));
    }

    /** {@code nn.GroupNorm(groups, c)}, eps 1e-5: statistics per image and group over channels and pixels. */
    Fmap groupNorm(Fmap x, String name, int groups) {
        SDVariable g = sd.reshape(x.v(), -1, groups, (long) (x.c() / groups) * x.h() * x.w());
        SDVariable normed = normalise(g, 2, GN_EPS);
        SDVariable y = sd.reshape(normed, -1, x.c(), x.h(), x.w());
        return new Fmap(affine(y, name, x.c()), x.c(), x.h(), x.w());
    }

    /** detectron2's channel LayerNorm (ViTDet's pyramid): statistics per pixel over channels, eps 1e-6. */
    Fmap layerNorm2d(Fmap x, String name) {
        return new Fmap(affine(normalise(x.v(), 1, LN_EPS), name, x.c()), x.c(), x.h(), x.w());
    }

    /** LayerNorm over the last axis of [M, d] rows (the ViT's final norm), eps 1e-6. */
    SDVariable layerNormRows(SDVariable x, String name, int d) {
        return GraphOps.layerNorm(sd, x, params.get(name + ".weight", d), params.get(name + ".bias", d), LN_EPS);
    }

    private SDVariable normalise(SDVariable x, int axis, double eps) {
        return GraphOps.standardise(sd, x, axis, eps);
    }

    private SDVariable affine(SDVariable x, String name, int c) {
        SDVariable w = sd.reshape(params.get(name + ".weight", c), 1, c, 1, 1);
        SDVariable b = sd.reshape(params.get(name + ".bias", c), 1, c, 1, 1);
        return x.mul(w).add(b);
    }

    Fmap relu(Fmap x) {
        return new Fmap(sd.nn().relu(x.v(), 0), x.c(), x.h(), x.w());
    }

    /** Exact GELU, as torch.nn.GELU(). */
    Fmap gelu(Fmap x) {
        return new Fmap(GraphOps.gelu(sd, x.v()), x.c(), x.h(), x.w());
    }

    /**
     * {@code nn.ConvTranspose2d(in, out, 2, stride=2)}: every input pixel becomes a 2×2 block,
     * out[n, o, 2i+a, 2j+b] = Σ_c x[n, c, i, j]·W[c, o, a, b] + bias[o] — a matmul, then a pixel shuffle.
     */
    Fmap deconv2(Fmap x, String name, int out) {
        SDVariable w = sd.reshape(params.get(name + ".weight", x.c(), out, 2, 2), x.c(), 4L * out);
        SDVariable rows = sd.reshape(sd.permute(x.v(), 0, 2, 3, 1), -1, x.c());
        SDVariable y = sd.reshape(sd.mmul(rows, w), -1, x.h(), x.w(), out, 2, 2);
        y = sd.reshape(sd.permute(y, 0, 3, 1, 4, 2, 5), -1, out, 2L * x.h(), 2L * x.w());
        y = y.add(sd.reshape(params.get(name + ".bias", out), 1, out, 1, 1));
        return new Fmap(y, out, 2 * x.h(), 2 * x.w());
    }

    /** {@code nn.MaxPool2d(2)}: an odd last row or column is dropped, as PyTorch's floor mode does. */
    Fmap maxPool2(Fmap x) {
        int h = x.h() / 2;
        int w = x.w() / 2;
        SDVariable v = x.v();
        if (x.h() % 2 != 0 || x.w() % 2 != 0) {
            v = v.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0, 2 * h), SDIndex.interval(0, 2 * w));
        }
        SDVariable y = sd.reshape(v, -1, x.c(), h, 2, w, 2).max(3, 5);
        return new Fmap(y, x.c(), h, w);
    }

    /** Bilinear resize to a size, {@code F.interpolate(size=(h, w), mode='bilinear', align_corners=False)}. */
    Fmap resize(Fmap x, int h, int w) {
        if (h == x.h() && w == x.w()) {
            return x;
        }
        return separable(x, Interp.bilinear(x.h(), h, Double.NaN), Interp.bilinear(x.w(), w, Double.NaN));
    }

    /** Bilinear resize by a scale factor, {@code F.interpolate(scale_factor=s, mode='bilinear')}. */
    Fmap rescale(Fmap x, double scale) {
        if (scale == 1.0) {
            return x;
        }
        int h = Interp.scaledSize(x.h(), scale);
        int w = Interp.scaledSize(x.w(), scale);
        return separable(x, Interp.bilinear(x.h(), h, scale), Interp.bilinear(x.w(), w, scale));
    }

    /** {@code nn.AdaptiveAvgPool2d(s)}. */
    Fmap adaptiveAvgPool(Fmap x, int s) {
        return separable(x, Interp.adaptiveAvgPool(x.h(), s), Interp.adaptiveAvgPool(x.w(), s));
    }

    /** Mh · X · Mwᵀ for every image and channel: two matmuls with a transpose between them. */
    private Fmap separable(Fmap x, INDArray mh, INDArray mw) {
        int h2 = (int) mh.size(0);
        int w2 = (int) mw.size(0);
        SDVariable mwT = sd.constant(mw.transpose().dup());
        SDVariable mhT = sd.constant(mh.transpose().dup());
        SDVariable y = sd.mmul(sd.reshape(x.v(), -1, x.w()), mwT);
        y = sd.permute(sd.reshape(y, -1, x.h(), w2), 0, 2, 1);
        y = sd.mmul(sd.reshape(y, -1, x.h()), mhT);
        y = sd.permute(sd.reshape(y, -1, w2, h2), 0, 2, 1);
        return new Fmap(sd.reshape(y, -1, x.c(), h2, w2), x.c(), h2, w2);
    }

    Fmap add(Fmap a, Fmap b) {
        return new Fmap(a.v().add(b.v()), a.c(), a.h(), a.w());
    }

    /** Concatenation along channels of maps of one size. */
    Fmap concat(List<Fmap> maps) {
        int c = maps.stream().mapToInt(Fmap::c).sum();
        SDVariable v = sd.concat(1, maps.stream().map(Fmap::v).toArray(SDVariable[]::new));
        return new Fmap(v, c, maps.get(0).h(), maps.get(0).w());
    }

    /** [N, c, h, w] → [N, h·w, c]: one row per pixel in row-major order, as mmdet flattens a level. */
    SDVariable pixelsLast(Fmap x) {
        return sd.reshape(sd.permute(x.v(), 0, 2, 3, 1), -1, (long) x.h() * x.w(), x.c());
    }
}
