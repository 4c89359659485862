package ai.pela.zoo.engine.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import ai.pela.zoo.engine.ReferenceMath;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** What only the CPU implementation has: its erf, its host-buffer access and its argument checks. */
class CpuKernelsTest {
    private final CpuKernels kernels = new CpuKernels();

    /** Cody's approximation against the series / continued-fraction reference: far inside the 2e-7 required. */
    @Test
    void erfIsAccurateOverAllFloats() {
        double worst = 0;
        for (int i = -60_000; i <= 60_000; i++) {
            double x = i * 1e-4 * 1.0000123; // not on the 0.5 / 4 boundaries only
            worst = Math.max(worst, Math.abs(Erf.erf(x) - ReferenceMath.erf(x)));
        }
        Random r = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt()); // every exponent, NaN and ±∞ included
            if (Float.isNaN(x)) {
                assertThat(Erf.erf(x)).isNaN();
            } else {
                worst = Math.max(worst, Math.abs(Erf.erf(x) - ReferenceMath.erf(x)));
            }
        }
        assertThat(Erf.erf(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
        assertThat(Erf.erf(Double.NEGATIVE_INFINITY)).isEqualTo(-1.0);
        assertThat(worst).isLessThan(1e-14);
    }

    /** 1e-9 relative: the reference itself loses digits to cancellation just below its switch at x/√2 = −2.5. */
    @Test
    void normalCdfKeepsRelativeAccuracyInTheLowerTail() {
        for (double x = -37; x <= 8; x += 0.0137) {
            double expected = ReferenceMath.normalCdf(x);
            assertThat(Math.abs(Erf.normalCdf(x) - expected)).as("Φ(%s)", x).isLessThanOrEqualTo(1e-9 * expected);
        }
    }

    /** The GELU tables against Cody's erf between the knots, where cubic interpolation is least accurate. */
    @Test
    void geluTablesMatchErfBetweenKnots() {
        double worst = 0;
        for (double x = -8; x <= 9; x += 1 / 64.0 * 1.0013) {
            double cdf = Erf.normalCdf(x);
            double slope = cdf + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
            worst = Math.max(worst, Math.abs(GeluTables.normalCdf(x) - cdf));
            worst = Math.max(worst, Math.abs(GeluTables.geluSlope(x) - slope));
        }
        assertThat(worst).isLessThan(1e-8);
        assertThat(GeluTables.normalCdf(-9)).isZero();
        assertThat(GeluTables.normalCdf(Double.NaN)).isNaN();
        assertThat(GeluTables.geluSlope(Double.POSITIVE_INFINITY)).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void gemmRefusesATransposedView() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 5, 3);
        INDArray c = Nd4j.zeros(DataType.FLOAT, 3, 3);
        assertThatThrownBy(() -> kernels.gemm(a.transpose(), false, a, false, c, 1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a must have unit stride");
        assertThatThrownBy(() -> kernels.gemm(a, false, a, false, c, 1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("do not match");
        assertThatThrownBy(() -> kernels.gemm(a.castTo(DataType.DOUBLE), true, a, false, c, 1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FLOAT");
    }

    @Test
    void rowKernelsRefuseViewsWithGaps() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 6, 8).get(all(), interval(0, 4));
        assertThatThrownBy(() -> kernels.add(x, x.dup())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("contiguous");
    }

    /** HostFloats indexes a view from its own first element (asNioFloat() would start at the parent's). */
    @Test
    void hostFloatsOfAViewStartAtTheViewsFirstElement() {
        INDArray x = Nd4j.arange(180).castTo(DataType.FLOAT).reshape(10, 18);
        INDArray rows = x.get(interval(5, 7), all());
        assertThat(HostFloats.of(rows, "rows").get(0)).isEqualTo(90f);
        assertThat(HostFloats.at(x.get(interval(5, 10), interval(3, 6)), 1).get(0)).isEqualTo(93f);
    }
}
