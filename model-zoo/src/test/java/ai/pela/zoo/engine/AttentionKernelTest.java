package ai.pela.zoo.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The fused attention kernels: the CPU implementation (per-group q·kᵀ, softmax and P·v on one thread) against the
 * portable composition, and the forward against a float64 reference, on head views of a qkv matrix with a repeated
 * bias (Swin's relative-position bias and mask) and a fully masked row.
 */
class AttentionKernelTest {
    private static final int N = 3;
    private static final int HEADS = 2;
    private static final int T = 9;
    private static final int HD = 5;

    @Test
    void cpuAttentionEqualsThePortableCompositionForwardAndBackward() {
        Kernels portable = new PortableKernels();
        Kernels cpu = KernelsChoice.choose("cpu", KernelsChoice.cpuBackend());
        INDArray qkv = Nd4j.randn(7, new long[] {N * T, 3L * HEADS * HD}).castTo(DataType.FLOAT);
        INDArray dOut = Nd4j.randn(8, new long[] {N * T, (long) HEADS * HD}).castTo(DataType.FLOAT);
        INDArray bias = Nd4j.randn(9, new long[] {HEADS, T, T}).castTo(DataType.FLOAT);
        bias.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.point(4),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(Float.NEGATIVE_INFINITY);
        Run a = new Run(portable, qkv, dOut, bias);
        Run b = new Run(cpu, qkv, dOut, bias);
        assertThat(Fixtures.maxAbsDiff(b.probs, a.probs)).isLessThan(1e-6);
        assertThat(Fixtures.relativeError(b.out, a.out)).isLessThan(1e-6);
        assertThat(Fixtures.relativeError(b.dQkv, a.dQkv)).isLessThan(1e-5);
        // the masked row of head 1 (groups 1, 3, 5) attends to nothing: zero probabilities, no NaN anywhere
        assertThat(Transforms.abs(b.probs.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1), org.nd4j.linalg.indexing.NDArrayIndex.point(4), org.nd4j.linalg.indexing.NDArrayIndex.all())).sumNumber().doubleValue()).isZero();
        assertThat(b.dQkv.isNaN().any()).isFalse();

        double[] ref = referenceOutput(qkv, bias, 1, 0); // image 1, head 0 (group 2)
        for (int i = 0; i < T; i++) {
            for (int j = 0; j < HD; j++) {
                assertThat(b.out.getDouble(T + i, j)).isCloseTo(ref[i * HD + j], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    /** One forward and backward through {@code k}, on views of copies of the inputs. */
    private static final class Run {
        final INDArray probs = Nd4j.create(DataType.FLOAT, (long) N * HEADS, T, T);
        final INDArray out = Nd4j.create(DataType.FLOAT, (long) N * T, (long) HEADS * HD);
        final INDArray dQkv = Nd4j.create(DataType.FLOAT, (long) N * T, 3L * HEADS * HD);

        Run(Kernels k, INDArray qkv, INDArray dOut, INDArray bias) {
            INDArray x = qkv.dup();
            INDArray dProbs = Nd4j.create(DataType.FLOAT, (long) N * HEADS, T, T);
            INDArray probRows = probs.reshape((long) N * HEADS * T, T);
            INDArray dProbRows = dProbs.reshape((long) N * HEADS * T, T);
            Heads h = Heads.ofQkv(x, N, T, HEADS, HD);
            Heads dh = Heads.ofQkv(dQkv, N, T, HEADS, HD);
            double scale = 1 / Math.sqrt(HD);
            k.attention(h.q, h.k, h.v, scale, bias, probs, Heads.ofGroups(probRows, N * HEADS, T),
                    Heads.ofTokens(out, N, T, HEADS, HD));
            k.attentionBackward(h.q, h.k, h.v, scale, probs, Heads.ofGroups(probRows, N * HEADS, T),
                    Heads.ofTokens(dOut.dup(), N, T, HEADS, HD), dProbs, Heads.ofGroups(dProbRows, N * HEADS, T),
                    dh.q, dh.k, dh.v);
        }
    }

    private static double[] referenceOutput(INDArray qkv, INDArray bias, int image, int head) {
        double[] out = new double[T * HD];
        double scale = 1 / Math.sqrt(HD);
        int d = HEADS * HD;
        for (int i = 0; i < T; i++) {
            double[] s = new double[T];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < T; j++) {
                double dot = 0;
                for (int c = 0; c < HD; c++) {
                    dot += qkv.getDouble(image * T + i, head * HD + c) * qkv.getDouble(image * T + j, d + head * HD + c);
                }
                s[j] = scale * dot + bias.getDouble(head, i, j);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < T; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < T; j++) {
                for (int c = 0; c < HD; c++) {
                    out[i * HD + c] += s[j] / sum * qkv.getDouble(image * T + j, 2 * d + head * HD + c);
                }
            }
        }
        return out;
    }
}
