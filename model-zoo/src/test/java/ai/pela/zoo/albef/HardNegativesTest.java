package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class HardNegativesTest {
    @Test
    void drawsFollowSoftmaxWithoutTheDiagonal() {
        double[] row = {5.0, 1.0, 2.0, 0.0}; // self = 0: its high score must not matter
        int[] counts = new int[4];
        Random rng = new Random(3);
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            counts[HardNegatives.draw(row, 0, rng)]++;
        }
        double z = Math.exp(1) + Math.exp(2) + Math.exp(0);
        assertThat(counts[0]).isZero();
        assertThat(counts[1] / (double) n).isCloseTo(Math.exp(1) / z, within(0.01));
        assertThat(counts[2] / (double) n).isCloseTo(Math.exp(2) / z, within(0.01));
        assertThat(counts[3] / (double) n).isCloseTo(1 / z, within(0.01));
    }

    @Test
    void imagesComeFromTheTransposedSimilaritiesAndTextsFromTheRows() {
        // image 0 is most similar to text 2, text 0 to image 1: the hardest negatives, drawn almost surely
        float[][] sim = {{0, 0, 60, 0}, {60, 0, 0, 0}, {0, 0, 0, 60}, {0, 60, 0, 0}};
        HardNegatives.Choice c = HardNegatives.sample(Nd4j.createFromArray(sim), new Random(1));
        assertThat(c.negText()).containsExactly(2, 0, 3, 1);
        assertThat(c.negImage()).containsExactly(1, 3, 0, 2);
    }

    @Test
    void sameSeedSameNegativesAndNeverThePositive() {
        var sim = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 6, 6);
        HardNegatives.Choice a = HardNegatives.sample(sim, new Random(7));
        HardNegatives.Choice b = HardNegatives.sample(sim, new Random(7));
        assertThat(a.negImage()).containsExactly(b.negImage());
        assertThat(a.negText()).containsExactly(b.negText());
        for (int i = 0; i < 6; i++) {
            assertThat(a.negImage()[i]).isNotEqualTo(i);
            assertThat(a.negText()[i]).isNotEqualTo(i);
        }
    }

    @Test
    void aBatchOfOneHasNoNegative() {
        assertThatThrownBy(() -> HardNegatives.sample(Nd4j.ones(1, 1), new Random(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 2");
    }
}
