package ai.pela.zoo.train.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.pela.zoo.train.NativeSetup;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.cpu.nativecpu.ops.NativeOpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/** The replacement gradients against libnd4j's own kernels (the reference), on the shapes SameDiff hands them. */
class GradientKernelsTest {
    private static OpExecutioner library;
    private static GradientKernels kernels;

    @BeforeAll
    static void executioners() {
        Nd4j.getExecutioner(); // the backend must be up before an executioner is made
        library = new NativeOpExecutioner();
        kernels = new GradientKernels();
    }

    static Stream<Arguments> broadcastShapes() {
        return Stream.of(
                Arguments.of(new long[] {6, 5}, new long[] {6, 1}),        // LayerNorm's per-row 1/std
                Arguments.of(new long[] {6, 5}, new long[] {1, 5}),        // a per-feature scale or bias
                Arguments.of(new long[] {6, 5}, new long[] {5}),           // lower rank, right-aligned
                Arguments.of(new long[] {2, 3, 4}, new long[] {1, 3, 1}),  // several broadcast axes
                Arguments.of(new long[] {2, 3, 4}, new long[] {4}),
                Arguments.of(new long[] {6, 1}, new long[] {6, 5}),        // the first operand broadcast
                Arguments.of(new long[] {4}, new long[] {2, 3, 4}));
    }

    @ParameterizedTest
    @MethodSource("broadcastShapes")
    void broadcastProductGradientsEqualTheLibrarys(long[] xShape, long[] yShape) {
        INDArray x = Nd4j.randn(DataType.FLOAT, xShape);
        INDArray y = Nd4j.randn(DataType.FLOAT, yShape);
        long[] zShape = xShape.length >= yShape.length ? xShape.clone() : yShape.clone();
        for (int i = 1; i <= Math.min(xShape.length, yShape.length); i++) {
            zShape[zShape.length - i] = Math.max(xShape[xShape.length - i], yShape[yShape.length - i]);
        }
        INDArray g = Nd4j.randn(DataType.FLOAT, zShape);
        INDArray[] ours = run(kernels, "multiply_bp", List.of(x, y, g), List.of(xShape, yShape), List.of());
        INDArray[] lib = run(library, "multiply_bp", List.of(x, y, g), List.of(xShape, yShape), List.of());
        assertClose("dL/dx", ours[0], lib[0]);
        assertClose("dL/dy", ours[1], lib[1]);
    }

    @Test
    void gradientsWithoutABroadcastOperandAreLeftToTheLibrary() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 4);
        OpContext ctx = context(List.of(x, x.dup(), x.dup()), List.of(x.ulike(), x.ulike()), List.of());
        assertThat(GradientKernels.productGradients(ctx)).isNull();
        INDArray d = Nd4j.randn(DataType.DOUBLE, 3, 4);
        OpContext doubles = context(List.of(d, d.getRow(0, true), d), List.of(d.ulike(), d.getRow(0, true).ulike()),
                List.of());
        assertThat(GradientKernels.productGradients(doubles)).isNull();
    }

    @Test
    void softmaxGradientEqualsTheLibrarysAlongEveryAxis() {
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 4, 5).muli(3);
        INDArray g = Nd4j.randn(DataType.FLOAT, 2, 3, 4, 5);
        for (long axis : new long[] {3, -1, 1, 0}) {
            long[] shape = x.shape();
            INDArray[] ours = run(kernels, "softmax_bp", List.of(x, g), List.of(shape), List.of(axis));
            INDArray[] lib = run(library, "softmax_bp", List.of(x, g), List.of(shape), List.of(axis));
            assertClose("softmax_bp axis " + axis, ours[0], lib[0]);
        }
    }

    @Test
    void sameDiffGradientsThroughTheInstalledKernelsEqualTheLibrarys() {
        NativeSetup.configure();
        assertThat(Nd4j.getExecutioner()).isInstanceOf(GradientKernels.class);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", Nd4j.randn(DataType.FLOAT, 8, 6));
        SDVariable r = sd.var("r", Nd4j.rand(DataType.FLOAT, 8, 1).addi(0.5));
        SDVariable b = sd.var("b", Nd4j.randn(DataType.FLOAT, 1, 6));
        SDVariable z = sd.nn.softmax(x.mul(r).add(b).sub(b.mul(2)), 1);
        sd.setLossVariables(z.mul(sd.constant(Nd4j.randn(DataType.FLOAT, 8, 6))).sum("loss"));
        var grads = sd.calculateGradients(null, "x", "r", "b");
        // dL/db by central differences: the two ways of running the graph must agree with the function itself
        INDArray bArr = sd.getVariable("b").getArr();
        double eps = 1e-2;
        for (int j = 0; j < 6; j++) {
            double orig = bArr.getDouble(0, j);
            bArr.putScalar(0, j, orig + eps);
            double up = sd.output(Map.of(), "loss").get("loss").getDouble(0);
            bArr.putScalar(0, j, orig - eps);
            double down = sd.output(Map.of(), "loss").get("loss").getDouble(0);
            bArr.putScalar(0, j, orig);
            assertThat(grads.get("b").getDouble(0, j)).isCloseTo((up - down) / (2 * eps),
                    offset(2e-3));
        }
    }

    private static INDArray[] run(OpExecutioner exec, String op, List<INDArray> inputs, List<long[]> outShapes,
            List<Long> iArgs) {
        List<INDArray> outputs = outShapes.stream().map(s -> Nd4j.create(DataType.FLOAT, s)).toList();
        OpContext ctx = context(inputs, outputs, iArgs);
        exec.exec(DynamicCustomOp.builder(op).build(), ctx);
        return outputs.toArray(INDArray[]::new);
    }

    private static OpContext context(List<INDArray> inputs, List<INDArray> outputs, List<Long> iArgs) {
        OpContext ctx = library.buildContext();
        ctx.setInputArrays(inputs);
        ctx.setOutputArrays(outputs);
        if (!iArgs.isEmpty()) {
            ctx.setIArguments(iArgs.stream().mapToLong(Long::longValue).toArray());
        }
        return ctx;
    }

    private static void assertClose(String what, INDArray ours, INDArray reference) {
        assertThat(ours.shape()).as(what + " shape").containsExactly(reference.shape());
        double scale = Math.max(1.0, reference.amaxNumber().doubleValue());
        assertThat(ours.sub(reference).amaxNumber().doubleValue()).as(what).isLessThan(1e-5 * scale);
    }
}
