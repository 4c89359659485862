package ai.pela.zoo.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.testing.Fixtures;
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
    private int t;
    private int hd;

    /** Two sizes: 9 tokens of 5 (odd, smaller than any BLAS block) and 40 of 64. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"9, 5", "40, 64"})
    void cpuAttentionEqualsThePortableCompositionForwardAndBackward(int tokens, int headDim) {
        t = tokens;
        hd = headDim;
        Kernels portable = new PortableKernels();
        Kernels cpu = KernelsChoice.choose("cpu", KernelsChoice.cpuBackend());
        INDArray qkv = Nd4j.randn(7, new long[] {N * t, 3L * HEADS * hd}).castTo(DataType.FLOAT);
        INDArray dOut = Nd4j.randn(8, new long[] {N * t, (long) HEADS * hd}).castTo(DataType.FLOAT);
        INDArray bias = Nd4j.randn(9, new long[] {HEADS, t, t}).castTo(DataType.FLOAT);
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
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hd; j++) {
                assertThat(b.out.getDouble(t + i, j)).isCloseTo(ref[i * hd + j], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
    }

    /** One forward and backward through {@code k}, on views of copies of the inputs. */
    private final class Run {
        final INDArray probs = Nd4j.create(DataType.FLOAT, (long) N * HEADS, t, t);
        final INDArray out = Nd4j.create(DataType.FLOAT, (long) N * t, (long) HEADS * hd);
        final INDArray dQkv = Nd4j.create(DataType.FLOAT, (long) N * t, 3L * HEADS * hd);

        Run(Kernels k, INDArray qkv, INDArray dOut, INDArray bias) {
            INDArray x = qkv.dup();
            INDArray dProbs = Nd4j.create(DataType.FLOAT, (long) N * HEADS, t, t);
            INDArray probRows = probs.reshape((long) N * HEADS * t, t);
            INDArray dProbRows = dProbs.reshape((long) N * HEADS * t, t);
            Heads h = Heads.ofQkv(x, N, t, HEADS, hd);
            Heads dh = Heads.ofQkv(dQkv, N, t, HEADS, hd);
            double scale = 1 / Math.sqrt(hd);
            k.attention(h.q, h.k, h.v, scale, bias, probs, Heads.ofGroups(probRows, N * HEADS, t),
                    Heads.ofTokens(out, N, t, HEADS, hd));
            k.attentionBackward(h.q, h.k, h.v, scale, probs, Heads.ofGroups(probRows, N * HEADS, t),
                    Heads.ofTokens(dOut.dup(), N, t, HEADS, hd), dProbs, Heads.ofGroups(dProbRows, N * HEADS, t),
                    dh.q, dh.k, dh.v);
        }
    }

    private double[] referenceOutput(INDArray qkv, INDArray bias, int image, int head) {
        double[] out = new double[t * hd];
        double scale = 1 / Math.sqrt(hd);
        int d = HEADS * hd;
        for (int i = 0; i < t; i++) {
            double[] s = new double[t];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < t; j++) {
                double dot = 0;
                for (int c = 0; c < hd; c++) {
                    dot += qkv.getDouble(image * t + i, head * hd + c) * qkv.getDouble(image * t + j, d + head * hd + c);
                }
                s[j] = scale * dot + bias.getDouble(head, i, j);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < t; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < t; j++) {
                for (int c = 0; c < hd; c++) {
                    out[i * hd + c] += s[j] / sum * qkv.getDouble(image * t + j, 2 * d + head * hd + c);
                }
            }
        }
        return out;
    }
}
