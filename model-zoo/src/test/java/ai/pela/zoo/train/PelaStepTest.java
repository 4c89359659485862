package ai.pela.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.testing.FashionMnist;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.vit.VitModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The single-device PELA step on real Fashion-MNIST images. */
class PelaStepTest {
    private final ModelConfig teacherConfig = Fixtures.config("vit_token");
    private final StateDict teacherWeights = Fixtures.weights("vit_token");

    private static StepHyper hyper() {
        return new StepHyper(1.0, 1.0, 0.1, FdForm.CODE, RwpForm.CODE, 1e-3, 5.0, AdamW.Config.defaults(0.05),
                new CosineSchedule(1e-3, 1e-5, 1e-4, 3, 30));
    }

    private PelaStep newStep() {
        LowRank.Student s = LowRank.compress(teacherConfig, teacherWeights, 2, LowRank.VIT_OMIT);
        VitModel teacher = VitModel.create(teacherConfig, teacherWeights, "teacher");
        return new PelaStep(s.config(), s.weights(), teacher, teacherWeights, hyper());
    }

    @Test
    void thirtyStepsLowerTheLossKeepTheTeacherAndChangeEveryStudentParameter() {
        Map<String, INDArray> teacherBefore = new HashMap<>();
        teacherWeights.asMap().forEach((k, v) -> teacherBefore.put(k, v.dup()));
        PelaStep step = newStep();
        StateDict studentBefore = step.stateDict();
        FashionMnist.Batch batch = FashionMnist.batch(0, 32);

        List<StepLosses> history = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            history.add(step.step(batch.images(), batch.labels()));
        }
        StepLosses first = history.get(0);
        StepLosses last = history.get(29);
        assertThat(first.fd()).isPositive();
        assertThat(first.rwp()).isFinite();
        assertThat(last.total()).isLessThan(0.8 * first.total());
        assertThat(last.base()).isLessThan(first.base());

        teacherWeights.asMap().forEach((k, v) ->
                assertThat(v.equals(teacherBefore.get(k))).as("teacher %s bit-identical", k).isTrue());
        StateDict studentAfter = step.stateDict();
        for (String k : studentBefore.keys()) {
            assertThat(studentAfter.get(k).equals(studentBefore.get(k))).as("student %s changed", k).isFalse();
        }
    }

    @Test
    void parametersAndOptimiserStateRoundTripThroughFlatVectors() {
        PelaStep a = newStep();
        FashionMnist.Batch batch = FashionMnist.batch(32, 16);
        a.step(batch.images(), batch.labels());
        PelaStep b = newStep();
        b.importParams(a.exportParams());
        b.importOptimizer(a.exportOptimizer());
        StepLosses la = a.step(batch.images(), batch.labels());
        StepLosses lb = b.step(batch.images(), batch.labels());
        assertThat(lb.total()).isEqualTo(la.total());
        assertThat(b.exportParams()).isEqualTo(a.exportParams());
    }

    @Test
    void nonFiniteLossIsRejectedNamingTheComponentAndLeavesParametersAlone() {
        PelaStep step = newStep();
        FashionMnist.Batch batch = FashionMnist.batch(0, 4);
        INDArray before = step.exportParams();
        INDArray bad = batch.images().dup();
        bad.putScalar(new long[] {0, 0, 5, 5}, Float.NaN);
        assertThatThrownBy(() -> step.step(bad, batch.labels())).isInstanceOf(NonFiniteLossException.class)
                .hasMessageContaining("'loss'");
        assertThat(step.exportParams()).isEqualTo(before);
    }

    @Test
    void supervisedModeTrainsADenseModelWithoutATeacher() {
        PelaStep step = new PelaStep(teacherConfig, teacherWeights, null, null, StepHyper.supervised(1e-3, 0.05, 0.1));
        FashionMnist.Batch batch = FashionMnist.batch(0, 32);
        double first = step.step(batch.images(), batch.labels()).total();
        double last = first;
        for (int i = 0; i < 15; i++) {
            last = step.step(batch.images(), batch.labels()).total();
        }
        assertThat(last).isLessThan(first);
    }
}
