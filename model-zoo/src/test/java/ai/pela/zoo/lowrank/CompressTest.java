package ai.pela.zoo.lowrank;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.vit.VitLayout;
import ai.pela.zoo.vit.VitModel;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CompressTest {
    private final ModelConfig teacherConfig = Fixtures.config("vit_token");
    private final StateDict teacher = Fixtures.weights("vit_token");
    private final INDArray input = Fixtures.npy("vit_token/input.npy");

    @Test
    void fullRankStudentReproducesTheTeacher() {
        LowRank.Student s = LowRank.compress(teacherConfig, teacher, 0.25, LowRank.VIT_OMIT);
        assertThat(s.config().lowrank().rank("blocks.0.mlp.fc1")).isEqualTo(48);
        INDArray logits = VitModel.create(s.config(), s.weights(), "student").logits(input);
        assertThat(relativeError(logits, Fixtures.npy("vit_token/logits.npy"))).isLessThan(1e-4);
    }

    @Test
    void kappaTwoStudentMatchesPyTorchTruncatedSvd() {
        LowRank.Student s = LowRank.compress(teacherConfig, teacher, 2, LowRank.VIT_OMIT);
        ModelConfig reference = Fixtures.config("vit_token_lowrank_k2");
        assertThat(s.config().lowrank().ranks()).isEqualTo(reference.lowrank().ranks());
        s.weights().checkMatches("student", VitLayout.parameterShapes(reference));
        INDArray logits = VitModel.create(s.config(), s.weights(), "student").logits(input);
        assertThat(relativeError(logits, Fixtures.npy("vit_token_lowrank_k2/logits.npy"))).isLessThan(1e-3);
        // The factors' signs are arbitrary; their product is the unique best rank-r approximation.
        StateDict ref = Fixtures.weights("vit_token_lowrank_k2");
        for (String linear : reference.lowrank().ranks().keySet()) {
            INDArray ours = s.weights().get(linear + ".1.weight").mmul(s.weights().get(linear + ".0.weight"));
            INDArray theirs = ref.get(linear + ".1.weight").mmul(ref.get(linear + ".0.weight"));
            assertThat(relativeError(ours, theirs)).as(linear).isLessThan(1e-4);
            assertThat(s.weights().get(linear + ".1.bias")).isEqualTo(teacher.get(linear + ".bias"));
        }
    }

    @Test
    void svdSplitIsTheBestRankRApproximationWithBalancedFactors() {
        INDArray w = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 12, 7).subi(0.5);
        LowRank.Factors f = LowRank.svdSplit(w, 7);
        assertThat(f.w0().shape()).containsExactly(7, 7);
        assertThat(f.w1().shape()).containsExactly(12, 7);
        assertThat(relativeError(f.w1().mmul(f.w0()), w)).isLessThan(1e-5);
        // √Σ on both sides: the factors' squared Frobenius norms are equal (both Σ σ_i).
        double n0 = f.w0().norm2Number().doubleValue();
        double n1 = f.w1().norm2Number().doubleValue();
        assertThat(n0).isCloseTo(n1, org.assertj.core.data.Percentage.withPercentage(1e-3));
    }

    @Test
    void compressingAStudentOrWithBadKappaFails() {
        LowRank.Student s = LowRank.compress(teacherConfig, teacher, 2, LowRank.VIT_OMIT);
        assertThatThrownBy(() -> LowRank.compress(s.config(), s.weights(), 2, LowRank.VIT_OMIT))
                .isInstanceOf(PelaException.class).hasMessageContaining("already low-rank");
        assertThatThrownBy(() -> LowRank.compress(teacherConfig, teacher, 0, LowRank.VIT_OMIT))
                .isInstanceOf(PelaException.class).hasMessageContaining("kappa must be a positive number");
    }
}
