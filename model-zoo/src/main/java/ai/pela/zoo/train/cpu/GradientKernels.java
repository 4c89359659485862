package ai.pela.zoo.train.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Faster gradients for two ops of libnd4j 1.0.0-M2.1 on the CPU backend, in an op executioner that takes their
 * place when SameDiff runs them and hands every other op to ND4J's own.
 *
 * <p>Why: M2.1's {@code multiply_bp} tiles a broadcast operand to the full shape before reducing it
 * ({@code NDArray::tile} in perf profiles): with [3152, 192] ⊙ [3152, 1] (LayerNorm's per-row 1/std) the gradient
 * takes 11–19 ms where the same-shape one takes 0.8 ms. Here the broadcast operand's gradient is one dot product
 * per broadcast slice (~2 ms, no full-size temporary); {@code add_bp}'s broadcast case, a plain sum, is already as
 * fast as ours would be. {@code softmax_bp} becomes y ⊙ (g − Σ g ⊙ y) with y recomputed by the fused softmax (~1.3×
 * the library's on the attention's [48, 197, 197]). DL4J's last release is M2.1, so there is no fixed version to
 * move to. Ops without a broadcast operand, of other data types, or of shapes not handled here run the library's
 * kernel unchanged; the results equal the library's up to float rounding (GradientKernelsTest).
 *
 * <p>{@link ai.pela.zoo.train.NativeSetup#configure()} puts an instance behind {@code Nd4j.getExecutioner()}; the
 * CUDA build ({@code -Pcuda}) leaves this package out.
 */
public final class GradientKernels extends NativeOpExecutioner {
    @Override
    public INDArray[] exec(CustomOp op, OpContext context) {
        INDArray[] out = switch (op.opName()) {
            case "multiply_bp" -> productGradients(context);
            case "softmax_bp" -> softmaxGradient(context);
            default -> null;
        };
        return out != null ? out : super.exec(op, context);
    }

    /**
     * Inputs (x, y, dL/dz) with z = x ⊙ y broadcast, outputs (dL/dx, dL/dy) shaped like x and y. Returns null
     * (library kernel) unless exactly one of x, y is broadcast and every array is a float array of rank ≥ 1.
     */
    static INDArray[] productGradients(OpContext context) {
        List<INDArray> in = context.getInputArrays();
        List<INDArray> out = context.getOutputArrays();
        if (in.size() != 3 || out.size() != 2) {
            return null;
        }
        INDArray x = in.get(0), y = in.get(1), g = in.get(2), gx = out.get(0), gy = out.get(1);
        if (!allFloat(x, y, g, gx, gy) || !sameShape(gx, x) || !sameShape(gy, y)) {
            return null;
        }
        boolean xFull = sameShape(x, g), yFull = sameShape(y, g);
        if (xFull == yFull || !broadcastsTo(xFull ? y : x, g)) {
            return null;
        }
        operandGradient(g, y, gx);
        operandGradient(g, x, gy);
        return new INDArray[] {gx, gy};
    }

    /**
     * dL/d(operand) = g ⊙ other, summed over the axes along which the operand was broadcast: the sum of a product
     * is one {@code Dot} reduction per slice, without the full-size temporary.
     */
    private static void operandGradient(INDArray g, INDArray other, INDArray grad) {
        if (!sameShape(grad, g)) {
            INDArray reduced = Nd4j.getExecutioner().exec(new Dot(g, other, broadcastAxes(grad, g)));
            grad.assign(reduced.reshape(grad.shape()));
        } else if (sameShape(other, g)) {
            Nd4j.exec(new MulOp(g, other, grad));
        } else {
            Nd4j.exec(DynamicCustomOp.builder("multiply").addInputs(g, other).addOutputs(grad).build());
        }
    }

    /** Inputs (x, dL/dy) with y = softmax(x) along one axis (integer argument, default the last); output dL/dx. */
    static INDArray[] softmaxGradient(OpContext context) {
        List<INDArray> in = context.getInputArrays();
        List<INDArray> out = context.getOutputArrays();
        if (in.size() != 2 || out.size() != 1) {
            return null;
        }
        INDArray x = in.get(0), g = in.get(1), dx = out.get(0);
        if (!allFloat(x, g, dx) || x.rank() == 0 || !sameShape(x, g) || !sameShape(x, dx)) {
            return null;
        }
        List<Long> iArgs = context.getIArguments();
        long axis = iArgs == null || iArgs.isEmpty() ? -1 : iArgs.get(0);
        int dim = (int) (axis < 0 ? axis + x.rank() : axis);
        if (dim < 0 || dim >= x.rank()) {
            return null;
        }
        INDArray y = x.ulike();
        Nd4j.exec(DynamicCustomOp.builder("softmax").addInputs(x).addOutputs(y).addIntegerArguments(dim).build());
        long[] keptShape = x.shape().clone();
        keptShape[dim] = 1;
        INDArray dot = Nd4j.getExecutioner().exec(new Dot(g, y, dim)).reshape(keptShape);
        Nd4j.exec(DynamicCustomOp.builder("subtract").addInputs(g, dot).addOutputs(dx).build());
        dx.muli(y);
        return new INDArray[] {dx};
    }

    /** Axes of {@code full} along which {@code small} (right-aligned, missing leading axes count) has size 1. */
    private static int[] broadcastAxes(INDArray small, INDArray full) {
        List<Integer> axes = new ArrayList<>();
        int offset = full.rank() - small.rank();
        for (int i = 0; i < full.rank(); i++) {
            long s = i < offset ? 1 : small.size(i - offset);
            if (s == 1 && full.size(i) != 1) {
                axes.add(i);
            }
        }
        return axes.stream().mapToInt(Integer::intValue).toArray();
    }

    /** True when {@code small} is a strict broadcast of {@code full}'s shape: same or lower rank, sizes 1 or equal. */
    private static boolean broadcastsTo(INDArray small, INDArray full) {
        if (small.rank() == 0 || small.rank() > full.rank() || small.isEmpty()) {
            return false;
        }
        int offset = full.rank() - small.rank();
        for (int i = 0; i < small.rank(); i++) {
            long s = small.size(i);
            if (s != 1 && s != full.size(i + offset)) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameShape(INDArray a, INDArray b) {
        return Arrays.equals(a.shape(), b.shape());
    }

    private static boolean allFloat(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a == null || a.dataType() != DataType.FLOAT || a.isEmpty()) {
                return false;
            }
        }
        return true;
    }
}
