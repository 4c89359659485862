package ai.pela.zoo.engine;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.StepLosses;
import ai.pela.zoo.vit.VitModel;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The engine against PyTorch autograd (fixtures/engine, made by make_engine_fixtures.py): logits and block outputs
 * of the teacher and of κ=2 / κ=3 students, every parameter's gradient of CE, of the full PELA loss in both forms,
 * and three whole steps with clipping, schedule and AdamW.
 */
class EngineGradientsTest {
    private static final int[] LABELS = {3, 7, 0, 9};

    @ParameterizedTest
    @ValueSource(strings = {"vit_token", "vit_avg", "vit_token_lowrank_k2", "engine/vit_token_lowrank_k3"})
    void logitsAndBlockOutputsMatchPyTorch(String set) {
        VitModel model = VitModel.create(Fixtures.config(set), Fixtures.weights(set), set);
        String input = set.equals("vit_avg") ? "vit_avg/input.npy" : "vit_token/input.npy";
        VitModel.Output out = model.forward(Fixtures.npy(input));
        assertThat(relativeError(out.logits(), Fixtures.npy(set + "/logits.npy"))).isLessThan(1e-5);
        INDArray expected = Fixtures.npy(set + "/features.npy");
        for (int i = 0; i < out.features().size(); i++) {
            INDArray ref = expected.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
            assertThat(relativeError(out.features().get(i), ref)).as("block %d", i).isLessThan(1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit_token:grads_teacher_ce", "vit_avg:grads_avg_ce"})
    void crossEntropyGradientsOfADenseModelMatchAutograd(String sets) {
        String set = sets.split(":")[0];
        StateDict ref = Fixtures.safetensors("engine/" + sets.split(":")[1] + ".safetensors");
        PelaStep step = new PelaStep(Fixtures.config(set), Fixtures.weights(set), null, null,
                StepHyper.supervised(1e-3, 0.05, ref.get("smoothing").getDouble(0)));
        PelaStep.Losses l = step.lossesAndGradients(Fixtures.npy(set + "/input.npy"), LABELS);
        assertThat(l.base()).isCloseTo(ref.get("loss").getDouble(0), org.assertj.core.data.Percentage.withPercentage(1e-4));
        assertGradients(step.gradients(), ref);
    }

    @ParameterizedTest
    @ValueSource(strings = {"code", "paper"})
    void pelaLossGradientsOfTheStudentMatchAutograd(String form) {
        StateDict ref = Fixtures.safetensors("engine/grads_k2_" + form + ".safetensors");
        PelaStep step = studentStep(ref, form.equals("code") ? FdForm.CODE : FdForm.PAPER,
                form.equals("code") ? RwpForm.CODE : RwpForm.PAPER, CosineSchedule.constant(1e-3), 0);
        PelaStep.Losses l = step.lossesAndGradients(Fixtures.npy("vit_token/input.npy"), LABELS);
        assertClose(l.total(), ref.get("loss"));
        assertClose(l.base(), ref.get("loss.base"));
        assertClose(l.fd(), ref.get("loss.fd"));
        assertClose(l.rwp(), ref.get("loss.rwp"));
        assertGradients(step.gradients(), ref);
    }

    /** fd-points = final: L_fd on the pooled feature the head sees (fixture made by make_swin_fixtures.py). */
    @Test
    void pelaLossWithFdOnThePooledFeatureMatchesAutograd() {
        StateDict ref = Fixtures.safetensors("swin/vit_k2_final.safetensors");
        PelaStep step = studentStep(ref, FdForm.CODE, RwpForm.CODE, CosineSchedule.constant(1e-3), 0, FdPoints.FINAL);
        PelaStep.Losses l = step.lossesAndGradients(Fixtures.npy("vit_token/input.npy"), LABELS);
        assertClose(l.total(), ref.get("loss"));
        assertClose(l.base(), ref.get("loss.base"));
        assertClose(l.fd(), ref.get("loss.fd"));
        assertClose(l.rwp(), ref.get("loss.rwp"));
        assertGradients(step.gradients(), ref);
    }

    @Test
    void theSameDiffStepRejectsFdPointsFinal() {
        StepHyper hyper = StepHyper.supervised(1e-3, 0.05, 0).withFdPoints(FdPoints.FINAL);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ai.pela.zoo.train.GraphPelaStep(
                Fixtures.config("vit_token"), Fixtures.weights("vit_token"), null, null, hyper))
                .hasMessageContaining("fd-points = final");
    }

    @Test
    void threeWholeStepsMatchTorchAdamW() {
        StateDict ref = Fixtures.safetensors("engine/step_k2.safetensors");
        CosineSchedule schedule = new CosineSchedule(d(ref, "schedule.base_lr"), d(ref, "schedule.min_lr"),
                d(ref, "schedule.warmup_lr"), (long) d(ref, "schedule.warmup_steps"), (long) d(ref, "schedule.total_steps"));
        PelaStep step = studentStep(ref, FdForm.CODE, RwpForm.CODE, schedule, d(ref, "clip_norm"));
        INDArray images = Fixtures.npy("vit_token/input.npy");
        for (int s = 0; s < 3; s++) {
            StepLosses l = step.step(images, LABELS);
            assertClose(l.total(), ref.get("loss." + s));
            assertClose(l.fd(), ref.get("loss.fd." + s));
            assertClose(l.rwp(), ref.get("loss.rwp." + s));
            assertThat(l.lr()).isCloseTo(d(ref, "lr." + s), org.assertj.core.data.Offset.offset(1e-9));
            assertClose(l.gradNorm(), ref.get("gradnorm." + s));
        }
        StateDict after = step.stateDict();
        for (String key : after.keys()) {
            assertThat(relativeError(withoutKeyBias(key, after.get(key)), withoutKeyBias(key, ref.get("after.2." + key))))
                    .as(key).isLessThan(1e-5);
        }
    }

    /**
     * The k slice of a qkv bias has an exactly-zero gradient (softmax ignores a constant per query), so it holds
     * float noise that AdamW scales up to lr-sized steps (torch's own float32 and float64 runs differ there by 4e-5):
     * compared without it. Its gradient itself is checked by the gradient tests.
     */
    private static INDArray withoutKeyBias(String key, INDArray a) {
        if (!key.endsWith("attn.qkv.1.bias") && !key.endsWith("attn.qkv.bias")) {
            return a;
        }
        long d = a.length() / 3;
        return org.nd4j.linalg.factory.Nd4j.concat(0, a.get(NDArrayIndex.interval(0, d)), a.get(NDArrayIndex.interval(2 * d, 3 * d)));
    }

    private static PelaStep studentStep(StateDict ref, FdForm fd, RwpForm rwp, CosineSchedule schedule, double clip) {
        return studentStep(ref, fd, rwp, schedule, clip, FdPoints.BLOCKS);
    }

    private static PelaStep studentStep(StateDict ref, FdForm fd, RwpForm rwp, CosineSchedule schedule, double clip,
            FdPoints points) {
        StateDict teacherWeights = Fixtures.weights("vit_token");
        VitModel teacher = VitModel.create(Fixtures.config("vit_token"), teacherWeights, "teacher");
        double wd = ref.contains("weight_decay") ? d(ref, "weight_decay") : 0.05;
        StepHyper hyper = new StepHyper(d(ref, "alpha"), d(ref, "beta"), d(ref, "smoothing"), fd, rwp,
                d(ref, "rwp_eps"), clip, AdamW.Config.defaults(wd), schedule, points);
        ModelConfig cfg = Fixtures.config("vit_token_lowrank_k2");
        return new PelaStep(cfg, Fixtures.weights("vit_token_lowrank_k2"), teacher, teacherWeights, hyper);
    }

    /** Each gradient within 1e-4 of autograd's, relative to the tensor's largest value. */
    private static void assertGradients(Map<String, INDArray> grads, StateDict ref) {
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            INDArray expected = ref.get("grad." + e.getKey());
            assertThat(relativeError(e.getValue().reshape(expected.shape()), expected)).as(e.getKey()).isLessThan(1e-4);
        }
        assertThat(grads).hasSize((int) ref.keys().stream().filter(k -> k.startsWith("grad.")).count());
    }

    private static void assertClose(double actual, INDArray expected) {
        double e = expected.getDouble(0);
        assertThat(Math.abs(actual - e)).as("%s vs %s", actual, e).isLessThanOrEqualTo(1e-5 * Math.max(1, Math.abs(e)));
    }

    private static double d(StateDict s, String key) {
        return s.get(key).getDouble(0);
    }
}
