package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.LabelledImages;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.StepReport;
import ai.pela.zoo.train.TrainStep;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** PELA on ALBEF: Java's surgery against PyTorch's student, and training steps on the tiny fixture. */
class AlbefPelaStepTest {
    @Test
    void javaSurgeryGivesPyTorchsStudent() {
        AlbefLowRank.Student s = AlbefLowRank.compress(AlbefFixtures.config(), AlbefFixtures.weights(), 3,
                LowRank.ALBEF_OMIT);
        assertThat(s.config()).isEqualTo(AlbefFixtures.studentConfig());
        // SVD factors are unique only up to signs, so compare what the student computes, not its tensors
        AlbefModel student = AlbefModel.create(s.config(), s.weights(), AlbefFixtures.TEXT_LENGTH, "student");
        Map<String, INDArray> out = student.output(AlbefFixtures.batch(),
                List.of(AlbefGraph.LOSS_ITC, AlbefGraph.LOSS_ITM, AlbefGraph.LOSS_MLM));
        StateDict ref = AlbefFixtures.studentOutputs();
        for (String[] t : new String[][] {{AlbefGraph.LOSS_ITC, "loss_itc"}, {AlbefGraph.LOSS_ITM, "loss_itm"},
                {AlbefGraph.LOSS_MLM, "loss_mlm"}}) {
            double expected = ref.get(t[1]).getDouble(0);
            assertThat(out.get(t[0]).getDouble(0)).as(t[0]).isCloseTo(expected, within(1e-4 * expected));
        }
    }

    @Test
    void stepsClampTheTemperatureSampleNegativesAndLowerTheLoss() {
        AlbefModel teacher = AlbefModel.create(AlbefFixtures.config(), AlbefFixtures.weights(), AlbefFixtures.TEXT_LENGTH,
                "teacher");
        StateDict student = new StateDict(AlbefFixtures.studentWeights().asMap());
        student.put(AlbefLayout.TEMP, Nd4j.scalar(0.9f)); // out of ALBEF's range: clamped before the forward
        double lr = 1e-3;
        StepHyper hyper = new StepHyper(0.1, 1.0, 0, ai.pela.zoo.loss.FdForm.CODE, ai.pela.zoo.loss.RwpForm.CODE, 1e-3, 5.0,
                AdamW.Config.defaults(0.02), CosineSchedule.constant(lr));
        AlbefPelaStep step = new AlbefPelaStep(AlbefFixtures.studentConfig(), student, teacher, AlbefFixtures.weights(),
                hyper, AlbefFixtures.TEXT_LENGTH, AlbefPelaStep.Negatives.STUDENT, 11);
        INDArray before = step.exportParams();

        AlbefBatch fixed = AlbefFixtures.batch();
        AlbefBatch unmined = fixed.withNegatives(null, null);
        AlbefPelaStep.AlbefLosses sampled = step.step(unmined); // negatives drawn from the student's similarities
        assertThat(sampled.total()).isFinite();
        assertThat(sampled.total()).isCloseTo(sampled.itc() + sampled.itm() + sampled.mlm() + 0.1 * sampled.fd()
                + sampled.rwp(), within(1e-4 * sampled.total()));
        assertThat(step.stateDict().get(AlbefLayout.TEMP).getDouble(0)).isCloseTo(0.5, within(2 * lr));
        assertThat(step.exportParams().sub(before).norm2Number().doubleValue()).isPositive();

        AlbefPelaStep.AlbefLosses first = step.step(fixed);
        AlbefPelaStep.AlbefLosses last = first;
        for (int i = 0; i < 3; i++) {
            last = step.step(fixed);
        }
        assertThat(last.total()).isLessThan(first.total());
        assertThat(last.fd()).isGreaterThan(0);
    }

    /**
     * Through the trainer's interface: named components, and the batch's seed (not the step's history) fixes the
     * hard negatives, so a retried task on a fresh executor reproduces the step exactly.
     */
    @Test
    void asATrainStepTheBatchSeedFixesTheStep() {
        AlbefModel teacher = AlbefModel.create(AlbefFixtures.config(), AlbefFixtures.weights(), AlbefFixtures.TEXT_LENGTH,
                "teacher");
        StepHyper hyper = new StepHyper(0.1, 1.0, 0, ai.pela.zoo.loss.FdForm.CODE, ai.pela.zoo.loss.RwpForm.CODE, 1e-3, 5.0,
                AdamW.Config.defaults(0.02), CosineSchedule.constant(1e-3));
        TrainStep used = new AlbefPelaStep(AlbefFixtures.studentConfig(), AlbefFixtures.studentWeights(), teacher,
                AlbefFixtures.weights(), hyper, AlbefFixtures.TEXT_LENGTH, AlbefPelaStep.Negatives.STUDENT, 1);
        TrainStep fresh = new AlbefPelaStep(AlbefFixtures.studentConfig(), AlbefFixtures.studentWeights(), teacher,
                AlbefFixtures.weights(), hyper, AlbefFixtures.TEXT_LENGTH, AlbefPelaStep.Negatives.STUDENT, 2);
        assertThat(used.lossNames()).containsExactly("loss", "loss.itc", "loss.itm", "loss.mlm", "loss.fd", "loss.rwp");
        AlbefBatch unmined = AlbefFixtures.batch().withNegatives(null, null);
        used.step(new AlbefTrainBatch(unmined, 99)); // advances the step's own generator and moments
        INDArray params = used.exportParams();
        fresh.importParams(params);
        fresh.importOptimizer(used.exportOptimizer());

        StepReport a = used.step(new AlbefTrainBatch(unmined, 7));
        StepReport b = fresh.step(new AlbefTrainBatch(unmined, 7));
        assertThat(b.losses()).containsExactly(a.losses());
        assertThat(fresh.exportParams()).isEqualTo(used.exportParams());
        assertThat(a.losses()[0]).isCloseTo(a.losses()[1] + a.losses()[2] + a.losses()[3] + 0.1 * a.losses()[4]
                + a.losses()[5], within(1e-4 * a.losses()[0]));

        assertThatThrownBy(() -> used.step(new LabelledImages(Nd4j.zeros(1, 3, 16, 16), new int[] {0})))
                .hasMessageContaining("image-caption batches, got a LabelledImages");
    }
}
