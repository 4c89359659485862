package ai.pela.zoo.engine;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.transforms.floating.RSqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Exp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * {@link Kernels} composed of ND4J ops only (element-wise, broadcast, reductions, {@code Nd4j.gemm}), so it runs on
 * every backend, nd4j-cuda included. Avoided on purpose, because they are wrong or different in 1.0.0-M2.1:
 * {@code layer_norm} (no epsilon), {@code gelu} (the sigmoid approximation), {@code precise_gelu} and
 * {@code softmax_bp} (recomputes from the pre-softmax input); each is composed from primitives here instead.
 * Temporaries are limited to what the formula needs (at most two of the input's size).
 */
public final class PortableKernels implements Kernels {
    private static final double INV_SQRT2 = 0.70710678118654752440;
    private static final double INV_SQRT_2PI = 0.39894228040143267794;

    public PortableKernels() {
        // Stateless.
    }

    @Override
    public void layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps, INDArray xhat, INDArray rstd,
            INDArray y) {
        INDArray x2 = rows(x);
        INDArray h2 = like(xhat, x2);
        INDArray rs = column(rstd, x2.rows());
        INDArray mean = x2.mean(1).reshape(x2.rows(), 1);
        h2.assign(x2).subiColumnVector(mean);
        // Re-centre once: the float mean of a constant row can be off by an ulp, which rstd = 1/sqrt(eps) would
        // blow up to a visible xhat; the residual mean of the centred row removes it (two-pass algorithm).
        h2.subiColumnVector(h2.mean(1).reshape(x2.rows(), 1));
        Nd4j.exec(new Dot(h2, h2, rs.reshape(x2.rows()), 1));
        rs.divi(x2.columns()).addi(eps);
        Nd4j.exec(new RSqrt(rs, rs));
        h2.muliColumnVector(rs);
        like(y, x2).assign(h2).muliRowVector(vector(gamma)).addiRowVector(vector(beta));
    }

    @Override
    public void layerNormBackward(INDArray dy, INDArray xhat, INDArray rstd, INDArray gamma, INDArray dx,
            boolean accumulate, INDArray dgamma, INDArray dbeta) {
        INDArray dy2 = rows(dy);
        INDArray h2 = like(xhat, dy2);
        long m = dy2.rows();
        INDArray g = dy2.mulRowVector(vector(gamma));
        INDArray meanG = g.mean(1).reshape(m, 1);
        INDArray meanGX = Nd4j.exec(new Dot(g, h2, 1)).divi(dy2.columns()).reshape(m, 1);
        INDArray correction = h2.mulColumnVector(meanGX);
        g.subiColumnVector(meanG).subi(correction).muliColumnVector(column(rstd, m));
        INDArray dx2 = like(dx, dy2);
        if (accumulate) {
            dx2.addi(g);
        } else {
            dx2.assign(g);
        }
        Nd4j.exec(new Dot(dy2, h2, vector(dgamma), 0));
        dy2.sum(vector(dbeta), 0);
    }

    @Override
    public void gelu(INDArray x, INDArray y) {
        sameLength(y, x, "y");
        if (y == x) {
            x.muli(halfOnePlusErf(x, x.ulike()));
        } else {
            Nd4j.exec(new MulOp(x, halfOnePlusErf(x, shaped(y, x)), shaped(y, x)));
        }
    }

    /** out = Φ(x) = (1 + erf(x/√2))/2; returns out. */
    private static INDArray halfOnePlusErf(INDArray x, INDArray out) {
        x.mul(INV_SQRT2, out);
        Nd4j.exec(new Erf(out, out));
        return out.addi(1).muli(0.5);
    }

    @Override
    public void geluBackward(INDArray x, INDArray dy, INDArray dx) {
        sameLength(dy, x, "dy");
        sameLength(dx, x, "dx");
        INDArray slope = halfOnePlusErf(x, x.ulike());
        INDArray density = dx == dy ? x.ulike() : shaped(dx, x);
        // x·φ(x) = x·exp(−x²/2)/√(2π)
        Nd4j.exec(new MulOp(x, x, density));
        density.muli(-0.5);
        Nd4j.exec(new Exp(density, density));
        density.muli(x).muli(INV_SQRT_2PI).addi(slope);
        if (dx == dy) {
            dy.muli(density.reshape(dy.shape()));
        } else {
            density.muli(dy.reshape(x.shape()));
        }
    }

    @Override
    public void softmax(INDArray s, double scale, INDArray bias, INDArray y) {
        sameLength(y, s, "y");
        INDArray y3 = shaped(y, s);
        if (y != s || scale != 1) {
            s.mul(scale, y3);
        }
        if (bias != null) {
            addBias(y3, bias);
        }
        INDArray y2 = rows(y3);
        INDArray max = y2.max(1);
        // A fully masked row has maximum −∞: subtracting 0 instead leaves exp(−∞) = 0 and no NaN from −∞ − (−∞).
        BooleanIndexing.replaceWhere(max, 0.0, Conditions.isInfinite());
        y2.subiColumnVector(max.reshape(y2.rows(), 1));
        Nd4j.exec(new Exp(y2, y2));
        INDArray sum = y2.sum(1);
        BooleanIndexing.replaceWhere(sum, 1.0, Conditions.equals(0));
        y2.diviColumnVector(sum.reshape(y2.rows(), 1));
    }

    /** y [G, R, C] += bias [Gb, R, C] repeated over the G/Gb leading groups, as one broadcast row add. */
    private static void addBias(INDArray y, INDArray bias) {
        if (y.rank() != 3 || bias.rank() != 3 || bias.size(1) != y.size(1) || bias.size(2) != y.size(2)
                || y.size(0) % bias.size(0) != 0) {
            throw new IllegalArgumentException("bias must be [Gb, R, C] with s [G, R, C] and G a multiple of Gb, got s "
                    + Arrays.toString(y.shape()) + " bias " + Arrays.toString(bias.shape()));
        }
        y.reshape(y.size(0) / bias.size(0), bias.length()).addiRowVector(bias.reshape(bias.length()));
    }

    @Override
    public void softmaxBackward(INDArray y, INDArray dy, double scale, INDArray dx) {
        sameLength(dy, y, "dy");
        sameLength(dx, y, "dx");
        INDArray y2 = rows(y);
        INDArray dy2 = like(dy, y2);
        INDArray dot = Nd4j.exec(new Dot(dy2, y2, 1)).reshape(y2.rows(), 1);
        INDArray dx2 = like(dx, y2);
        if (dx != dy) {
            dx2.assign(dy2);
        }
        dx2.subiColumnVector(dot).muli(y2);
        if (scale != 1) {
            dx2.muli(scale);
        }
    }

    @Override
    public void addRowVector(INDArray y, INDArray v) {
        long d = v.length();
        checkRows(y, d, "y");
        y.reshape(y.length() / d, d).addiRowVector(v.reshape(d));
    }

    @Override
    public void setRows(INDArray y, INDArray v) {
        long d = v.length();
        checkRows(y, d, "y");
        y.reshape(y.length() / d, d).assign(0).addiRowVector(v.reshape(d));
    }

    @Override
    public void columnSums(INDArray x, INDArray out, boolean accumulate) {
        long d = out.length();
        checkRows(x, d, "x");
        INDArray x2 = x.reshape(x.length() / d, d);
        if (accumulate) {
            out.addi(x2.sum(0).reshape(out.shape()));
        } else {
            x2.sum(vector(out), 0);
        }
    }

    @Override
    public void add(INDArray y, INDArray x) {
        sameLength(x, y, "x");
        y.addi(shaped(x, y));
    }

    @Override
    public double squaredDistance(INDArray a, INDArray b, double gradScale, INDArray grad, boolean accumulate) {
        sameLength(b, a, "b");
        INDArray diff = a.sub(shaped(b, a));
        INDArray wide = diff.castTo(DataType.DOUBLE);
        double value = Nd4j.exec(new Dot(wide, wide)).getDouble(0);
        if (grad != null) {
            sameLength(grad, a, "grad");
            diff.muli(gradScale);
            if (accumulate) {
                grad.addi(shaped(diff, grad));
            } else {
                grad.assign(shaped(diff, grad));
            }
        }
        return value;
    }

    @Override
    public void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        if (!c.isView()) {
            Nd4j.gemm(a, b, c, transA, transB, alpha, beta);
            return;
        }
        // Nd4j.gemm refuses an output view ("C array should NOT be a view"): product first, then combine.
        INDArray product = Nd4j.gemm(a, b, transA, transB);
        if (alpha != 1) {
            product.muli(alpha);
        }
        if (beta == 0) {
            c.assign(product); // BLAS semantics: c's old values (even NaN) are not read
        } else {
            if (beta != 1) {
                c.muli(beta);
            }
            c.addi(product);
        }
    }

    /** {@code a} as a 2-D [length/lastDim, lastDim] array sharing its memory. */
    private static INDArray rows(INDArray a) {
        long d = a.size(a.rank() - 1);
        return a.rank() == 2 ? a : a.reshape(a.length() / d, d);
    }

    /** {@code a} (same length as {@code shape}) viewed with {@code shape}'s shape. */
    private static INDArray like(INDArray a, INDArray shape) {
        sameLength(a, shape, "array");
        return Arrays.equals(a.shape(), shape.shape()) ? a : a.reshape(shape.shape());
    }

    private static INDArray shaped(INDArray a, INDArray shape) {
        return like(a, shape);
    }

    private static INDArray vector(INDArray a) {
        return a.rank() == 1 ? a : a.reshape(a.length());
    }

    private static INDArray column(INDArray a, long rows) {
        if (a.length() != rows) {
            throw new IllegalArgumentException("expected " + rows + " per-row values, got shape " + Arrays.toString(a.shape()));
        }
        return a.reshape(rows, 1);
    }

    private static void sameLength(INDArray a, INDArray like, String name) {
        if (a.length() != like.length()) {
            throw new IllegalArgumentException(name + " must have " + like.length() + " elements, got shape "
                    + Arrays.toString(a.shape()));
        }
    }

    private static void checkRows(INDArray a, long rowLength, String name) {
        if (rowLength == 0 || a.length() % rowLength != 0) {
            throw new IllegalArgumentException(name + " of shape " + Arrays.toString(a.shape())
                    + " is not a whole number of rows of length " + rowLength);
        }
    }
}
