package ai.pela.zoo.engine.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The softmax's vectorisable exponential against Math.exp, down to float's underflow and −∞. */
class FastExpTest {
    @Test
    void matchesMathExpOverTheNonPositiveRange() {
        Random r = new Random(5);
        double[] v = new double[10_000];
        double[] x = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            x[i] = i < 8 ? new double[] {0, -0.0, -1e-12, -1, -87.3, -103.9, -110, -745}[i] : -r.nextDouble() * Math.pow(10, r.nextInt(3));
            v[i] = x[i];
        }
        FastExp.expNonPositive(v, v.length);
        for (int i = 0; i < v.length; i++) {
            double e = Math.exp(x[i]);
            if (x[i] > -110) {
                assertThat(Math.abs(v[i] - e) / e).as("exp(%s)", x[i]).isLessThan(1e-10);
            } else {
                assertThat((float) v[i]).as("exp(%s) in float", x[i]).isZero();
            }
        }
    }

    @Test
    void minusInfinityGivesZero() {
        double[] v = {Double.NEGATIVE_INFINITY, -1e300};
        FastExp.expNonPositive(v, 2);
        assertThat((float) v[0]).isZero();
        assertThat((float) v[1]).isZero();
    }
}
