package ai.pela.zoo.engine;

import static ai.pela.zoo.testing.Fixtures.relativeError;
import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinModel;
import ai.pela.zoo.swin.SwinWindows;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.train.SwinPelaStep;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The Swin engine against PyTorch (fixtures/swin, made by make_swin_fixtures.py from a re-statement of the official
 * code that is checked against torchvision 0.14's SwinTransformer): logits and every block output of a dense model
 * and of its κ = 1.5 PELA student, the student Java's own SVD makes, and every parameter's gradient of CE (both
 * kernel implementations) and of the full PELA loss with L_fd over every block or on the final pooled feature.
 * Set "a" has shifted blocks in stages 0 and 1 and a last stage exactly one window; set "b" a last stage smaller
 * than the window (window 2, no shift) and no qkv bias.
 */
class SwinGradientsTest {
    private static final int[] LABELS = {3, 7};
    private static final double KAPPA = 1.5;

    static SwinConfig config(String set) {
        List<Double> zeros = List.of(0.0, 0.0, 0.0);
        List<Double> ones = List.of(1.0, 1.0, 1.0);
        return set.equals("a")
                ? new SwinConfig("swin", 32, 2, 3, 8, List.of(2, 2, 2), List.of(1, 2, 4), 4, 2.0, 10, true, zeros, ones, null)
                : new SwinConfig("swin", 32, 4, 3, 8, List.of(2, 2, 2), List.of(1, 2, 2), 4, 2.0, 10, false, zeros, ones, null);
    }

    static SwinConfig studentConfig(String set) {
        return studentConfig(set, LowRank.SWIN_OMIT);
    }

    /** omit = ["norm"] decomposes attn.proj, the reductions and the head as well ("student_wide"). */
    static SwinConfig studentConfig(String set, List<String> omit) {
        SwinConfig c = config(set);
        return c.withLowRank(LowRank.plan(SwinLayout.linears(c), KAPPA, omit));
    }

    private static SwinConfig configOf(String set, String model) {
        return switch (model) {
            case "teacher" -> config(set);
            case "student" -> studentConfig(set);
            case "student_wide" -> studentConfig(set, List.of("norm"));
            default -> throw new IllegalArgumentException(model);
        };
    }

    private static StateDict refs(String set) {
        return Fixtures.safetensors("swin/" + set + "/refs.safetensors");
    }

    private static StateDict weights(String set, String model) {
        return Fixtures.safetensors("swin/" + set + "/" + model + ".safetensors");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a:teacher", "a:student", "a:student_wide", "b:teacher", "b:student"})
    void logitsAndBlockOutputsMatchPyTorch(String which) {
        String set = which.split(":")[0];
        String model = which.split(":")[1];
        SwinConfig cfg = configOf(set, model);
        StateDict ref = refs(set);
        SwinModel swin = SwinModel.create(cfg, weights(set, model), which);
        SwinModel.Output out = swin.forward(ref.get("input"));
        double logits = relativeError(out.logits(), ref.get(model + ".logits"));
        double worstBlock = 0;
        for (int i = 0; i < cfg.numBlocks(); i++) {
            double e = relativeError(out.features().get(i), ref.get(model + ".block." + i));
            assertThat(e).as("block %d", i).isLessThan(1e-4);
            worstBlock = Math.max(worstBlock, e);
        }
        System.out.printf("swin %s: logits rel %.2e, blocks rel ≤ %.2e%n", which, logits, worstBlock);
        assertThat(logits).isLessThan(1e-4);
        // the batched path and the pooled feature agree with the single pass
        assertThat(relativeError(swin.logits(ref.get("input"), 1), ref.get(model + ".logits"))).isLessThan(1e-4);
        List<INDArray> pooled = List.of(Nd4j.create(DataType.FLOAT, 2, cfg.numFeatures()));
        swin.features(ref.get("input"), pooled, FdPoints.FINAL);
        assertThat(relativeError(pooled.get(0), ref.get(model + ".pooled"))).isLessThan(1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void theStudentThisProjectsSvdMakesHasPyTorchsLogits(String set) {
        SwinConfig cfg = studentConfig(set);
        StateDict student = LowRank.decompose(weights(set, "teacher"), cfg.lowrank());
        assertThat(cfg.lowrank().ranks()).isNotEmpty();
        StateDict pythonStudent = weights(set, "student");
        assertThat(student.keys()).containsExactlyInAnyOrderElementsOf(pythonStudent.keys());
        INDArray logits = SwinModel.create(cfg, student, "svd student").logits(refs(set).get("input"));
        double e = relativeError(logits, refs(set).get("student.logits"));
        System.out.printf("swin %s: SVD student logits rel %.2e%n", set, e);
        assertThat(e).isLessThan(1e-4);
    }

    /** The buffers real checkpoints carry, as the model computes them, equal the official code's. */
    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void relativePositionIndexAndShiftMaskEqualTheOfficialBuffers(String set) {
        SwinConfig c = config(set);
        StateDict ref = refs(set);
        Map<String, INDArray> ours = SwinWindows.buffers(c);
        List<String> official = ref.keys().stream().filter(k -> k.startsWith("buffer.")).map(k -> k.substring(7)).toList();
        assertThat(ours.keySet()).containsExactlyInAnyOrderElementsOf(official);
        assertThat(official.stream().filter(k -> k.endsWith("attn_mask")).count()).isEqualTo(set.equals("a") ? 2 : 1);
        for (String key : official) {
            INDArray expected = ref.get("buffer." + key);
            INDArray actual = ours.get(key);
            assertThat(actual.shape()).as(key).isEqualTo(expected.shape());
            assertThat(actual.dataType()).as(key).isEqualTo(key.endsWith("attn_mask") ? DataType.FLOAT : DataType.LONG);
            assertThat(actual.castTo(DataType.FLOAT).equals(expected)).as(key).isTrue();
        }
    }

    static Stream<Arguments> denseSets() {
        return KernelsTest.implementations().flatMap(k -> Stream.of(Arguments.of(k, "a"), Arguments.of(k, "b")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("denseSets")
    void crossEntropyGradientsOfTheDenseModelMatchAutograd(Kernels kernels, String set) {
        SwinConfig cfg = config(set);
        StateDict ref = refs(set);
        ParamSet params = ParamSet.of(SwinLayout.parameterShapes(cfg), weights(set, "teacher"), true);
        Swin swin = new Swin(cfg, params, kernels);
        Swin.Activations a = swin.activations(2);
        swin.forward(a, ref.get("input"), null);
        INDArray dLogits = Nd4j.create(DataType.FLOAT, 2, cfg.numClasses());
        double loss = EngineLosses.crossEntropy(a.logits(), LABELS, ref.get("hyper.smoothing").getDouble(0), dLogits);
        swin.backward(a, dLogits, null, FdPoints.BLOCKS);
        assertClose(loss, ref.get("dense_ce.loss"));
        System.out.printf("swin %s %s dense CE: gradients rel ≤ %.2e%n", set, kernels, assertGradients(params.grads(), ref, "dense_ce"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a:blocks_code", "a:final_paper", "a:wide_blocks_code", "b:blocks_code", "b:final_paper"})
    void pelaLossGradientsOfTheStudentMatchAutograd(String which) {
        String set = which.split(":")[0];
        String variant = which.split(":")[1];
        StateDict ref = refs(set);
        SwinPelaStep step = studentStep(set, variant, CosineSchedule.constant(1e-3));
        PelaStep.Losses l = step.lossesAndGradients(ref.get("input"), LABELS);
        assertClose(l.total(), ref.get(variant + ".loss"));
        assertClose(l.base(), ref.get(variant + ".loss.base"));
        assertClose(l.fd(), ref.get(variant + ".loss.fd"));
        assertClose(l.rwp(), ref.get(variant + ".loss.rwp"));
        System.out.printf("swin %s: losses %s, gradients rel ≤ %.2e%n", which, l, assertGradients(step.gradients(), ref, variant));
    }

    @Test
    void threeWholeStepsMatchTorchAdamWWithSwinsDecayGroups() {
        StateDict ref = Fixtures.safetensors("swin/a/steps.safetensors");
        CosineSchedule schedule = new CosineSchedule(d(ref, "schedule.base_lr"), d(ref, "schedule.min_lr"),
                d(ref, "schedule.warmup_lr"), (long) d(ref, "schedule.warmup_steps"), (long) d(ref, "schedule.total_steps"));
        StateDict refs = refs("a");
        StateDict teacherWeights = weights("a", "teacher");
        StepHyper hyper = new StepHyper(d(refs, "hyper.alpha"), d(refs, "hyper.beta"), d(refs, "hyper.smoothing"),
                FdForm.CODE, RwpForm.CODE, d(refs, "hyper.rwp_eps"), d(ref, "clip_norm"),
                AdamW.Config.defaults(d(ref, "weight_decay")), schedule, FdPoints.BLOCKS);
        SwinPelaStep step = new SwinPelaStep(studentConfig("a"), weights("a", "student"),
                SwinModel.create(config("a"), teacherWeights, "teacher"), teacherWeights, hyper);
        for (int s = 0; s < 3; s++) {
            ai.pela.zoo.train.StepLosses l = step.step(refs.get("input"), LABELS);
            assertClose(l.total(), ref.get("total." + s));
            assertClose(l.fd(), ref.get("fd." + s));
            assertClose(l.rwp(), ref.get("rwp." + s));
            assertClose(l.gradNorm(), ref.get("norm." + s));
            assertThat(l.lr()).isCloseTo(d(ref, "lr." + s), org.assertj.core.data.Offset.offset(1e-9));
        }
        StateDict after = step.stateDict();
        double worst = 0;
        for (String key : after.keys()) {
            double e = relativeError(withoutKeyBias(key, after.get(key)), withoutKeyBias(key, ref.get("after." + key)));
            assertThat(e).as(key).isLessThan(1e-5);
            worst = Math.max(worst, e);
        }
        System.out.printf("swin a: three steps, parameters rel ≤ %.2e%n", worst);
    }

    /** A qkv bias without its k third, whose exactly-zero gradient AdamW turns into noise (see EngineGradientsTest). */
    private static INDArray withoutKeyBias(String key, INDArray a) {
        if (!key.endsWith("attn.qkv.1.bias") && !key.endsWith("attn.qkv.bias")) {
            return a;
        }
        long d = a.length() / 3;
        return Nd4j.concat(0, a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, d)),
                a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2 * d, 3 * d)));
    }

    @Test
    void aFewStepsOnFixedDataReduceTheLoss() {
        StateDict ref = refs("a");
        SwinPelaStep step = studentStep("a", "blocks_code", CosineSchedule.constant(2e-3));
        double first = step.step(ref.get("input"), LABELS).total();
        double last = first;
        for (int s = 0; s < 5; s++) {
            last = step.step(ref.get("input"), LABELS).total();
        }
        assertThat(last).isLessThan(0.9 * first);
    }

    private static SwinPelaStep studentStep(String set, String variant, CosineSchedule schedule) {
        StateDict ref = refs(set);
        boolean code = variant.endsWith("code");
        boolean wide = variant.startsWith("wide");
        StateDict teacherWeights = weights(set, "teacher");
        SwinModel teacher = SwinModel.create(config(set), teacherWeights, "teacher");
        StepHyper hyper = new StepHyper(d(ref, "hyper.alpha"), d(ref, "hyper.beta"), d(ref, "hyper.smoothing"),
                code ? FdForm.CODE : FdForm.PAPER, code ? RwpForm.CODE : RwpForm.PAPER, d(ref, "hyper.rwp_eps"), 0,
                AdamW.Config.defaults(0.05), schedule, variant.startsWith("final") ? FdPoints.FINAL : FdPoints.BLOCKS);
        return new SwinPelaStep(configOf(set, wide ? "student_wide" : "student"),
                weights(set, wide ? "student_wide" : "student"), teacher, teacherWeights, hyper);
    }

    /** Each gradient within 1e-4 of autograd's, relative to the tensor's largest value; returns the worst. */
    private static double assertGradients(Map<String, INDArray> grads, StateDict ref, String variant) {
        double worst = 0;
        for (Map.Entry<String, INDArray> e : grads.entrySet()) {
            INDArray expected = ref.get(variant + ".grad." + e.getKey());
            double err = relativeError(e.getValue().reshape(expected.shape()), expected);
            assertThat(err).as(e.getKey()).isLessThan(1e-4);
            worst = Math.max(worst, err);
        }
        String prefix = variant + ".grad.";
        assertThat(grads).hasSize((int) ref.keys().stream().filter(k -> k.startsWith(prefix)).count());
        return worst;
    }

    private static void assertClose(double actual, INDArray expected) {
        double e = expected.getDouble(0);
        assertThat(Math.abs(actual - e)).as("%s vs %s", actual, e).isLessThanOrEqualTo(1e-5 * Math.max(1, Math.abs(e)));
    }

    private static double d(StateDict s, String key) {
        return s.get(key).getDouble(0);
    }
}
