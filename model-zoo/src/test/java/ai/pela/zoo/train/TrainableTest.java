package ai.pela.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainableTest {
    private static final StepHyper HYPER = new StepHyper(0, 0, 0, FdForm.CODE, RwpForm.CODE, 1e-3, 1.0,
            new AdamW.Config(0.9, 0.999, 1e-8, 0.0), CosineSchedule.constant(0.1));

    private static SameDiff graph() {
        SameDiff sd = SameDiff.create();
        sd.var("a", Nd4j.createFromArray(1f, 2f, 3f));
        sd.var("b", Nd4j.createFromArray(new float[][] {{4f, 5f}}));
        return sd;
    }

    @Test
    void flatVectorsFollowTheGivenOrderAndWriteIntoTheGraphsArrays() {
        SameDiff sd = graph();
        Trainable t = new Trainable(sd, List.of("b", "a"), HYPER);
        assertThat(t.exportParams().toFloatVector()).containsExactly(4f, 5f, 1f, 2f, 3f);
        t.importParams(Nd4j.createFromArray(-1f, -2f, 7f, 8f, 9f));
        assertThat(sd.getVariable("a").getArr().toFloatVector()).containsExactly(7f, 8f, 9f);
        assertThat(sd.getVariable("b").getArr().toFloatVector()).containsExactly(-1f, -2f);
    }

    @Test
    void aCheckpointIsACopy() {
        SameDiff sd = graph();
        Trainable t = new Trainable(sd, List.of("a", "b"), HYPER);
        StateDict s = t.stateDict();
        s.get("a").assign(0);
        assertThat(sd.getVariable("a").getArr().toFloatVector()).containsExactly(1f, 2f, 3f);
        assertThat(s.keys()).containsExactly("a", "b");
    }

    @Test
    void anUpdateClipsTheGradientsAndTakesOneAdamWStepAtTheSchedulesRate() {
        SameDiff sd = graph();
        Trainable t = new Trainable(sd, List.of("a", "b"), HYPER);
        Map<String, INDArray> grads = new HashMap<>();
        grads.put("a", Nd4j.createFromArray(3f, 0f, 0f));
        grads.put("b", Nd4j.createFromArray(new float[][] {{4f, 0f}}));
        Trainable.Update u = t.update(grads, name -> name.equals("b") ? 0.5 : 1.0);
        assertThat(u.gradNorm()).isCloseTo(5.0, offset(1e-6));
        assertThat(u.lr()).isCloseTo(0.1, offset(1e-12));
        assertThat(grads.get("a").getDouble(0)).isCloseTo(0.6, offset(1e-6)); // clipped to norm 1
        // AdamW's first step moves every parameter with a gradient by lr · sign(g) (no weight decay here)
        assertThat(sd.getVariable("a").getArr().toFloatVector()).containsExactly(new float[] {0.9f, 2f, 3f},
                offset(1e-5f));
        assertThat(sd.getVariable("b").getArr().getDouble(0, 0)).isCloseTo(4 - 0.05, offset(1e-5));
        assertThat(t.exportOptimizer()).isNotNull();
    }
}
