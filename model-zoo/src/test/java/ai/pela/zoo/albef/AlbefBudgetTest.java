package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The budget rank policy on ALBEF (plain SVD): per-Linear ranks that its SameDiff graph builds and runs. */
class AlbefBudgetTest {
    @Test
    void aBudgetStudentHasPerLinearRanksAndComputesItsLosses() {
        AlbefConfig teacher = AlbefFixtures.config();
        AlbefLowRank.Student s = AlbefLowRank.compress(teacher, AlbefFixtures.weights(), new RankPolicy.Budget(0.3),
                LowRank.ALBEF_OMIT);
        assertThat(s.config().lowrank().ranks().keySet())
                .isEqualTo(AlbefLowRank.plan(teacher, 3, LowRank.ALBEF_OMIT).ranks().keySet());
        assertThat(new HashSet<>(s.config().lowrank().ranks().values())).hasSizeGreaterThan(1);
        assertThat(s.config().lowrank().kappa()).isGreaterThanOrEqualTo(1 / 0.3);

        AlbefModel student = AlbefModel.create(s.config(), s.weights(), AlbefFixtures.TEXT_LENGTH, "student");
        Map<String, INDArray> out = student.output(AlbefFixtures.batch(),
                List.of(AlbefGraph.LOSS_ITC, AlbefGraph.LOSS_ITM, AlbefGraph.LOSS_MLM));
        assertThat(out.values()).allSatisfy(v -> assertThat(v.getDouble(0)).isFinite().isPositive());
    }
}
