package ai.pela.zoo.lowrank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Swin;
import ai.pela.zoo.engine.Vit;
import ai.pela.zoo.io.Npy;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinCheckpoint;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.vit.VitLayout;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Activation-aware SVD against numpy ({@code model-zoo/src/test/python/make_asvd_fixture.py}), and its statistics. */
class ActivationAwareSvdTest {
    private static INDArray npy(String name) {
        return Npy.read(Fixtures.resource("/asvd/" + name)).castTo(DataType.DOUBLE);
    }

    @Test
    void factorsMatchNumpyUpToTheSignOfEachComponent() {
        INDArray w = npy("w.npy").castTo(DataType.FLOAT);
        LowRank.Factors f = LowRank.svdSplit(w, 3, npy("s.npy"));
        INDArray p0 = f.w0().castTo(DataType.DOUBLE);
        INDArray p1 = f.w1().castTo(DataType.DOUBLE);
        INDArray np0 = npy("p0.npy");
        INDArray np1 = npy("p1.npy");
        for (int k = 0; k < 3; k++) {
            // An SVD fixes each singular pair only up to a common sign: flip P.0's row and P.1's column together.
            double sign = Math.signum(p1.getColumn(k).mul(np1.getColumn(k)).sumNumber().doubleValue());
            assertThat(maxDiff(p0.getRow(k).mul(sign), np0.getRow(k))).as("P.0 row %d", k).isLessThan(1e-6);
            assertThat(maxDiff(p1.getColumn(k).mul(sign), np1.getColumn(k))).as("P.1 column %d", k).isLessThan(1e-6);
        }
        assertThat(LowRank.spectrum(w, npy("s.npy"))).containsExactly(npy("spectrum.npy").toDoubleVector(), within(1e-9));
    }

    @Test
    void activationAwareFactorsLoseLessOfTheOutputThanPlainOnes() {
        INDArray w = npy("w.npy").castTo(DataType.FLOAT);
        INDArray x = npy("x.npy");
        double plain = outputError(w, LowRank.svdSplit(w, 3), x);
        double aware = outputError(w, LowRank.svdSplit(w, 3, npy("s.npy")), x);
        assertThat(aware).isLessThan(plain / 2); // numpy: 0.62 vs 3.51
    }

    @Test
    void inputMomentsGiveTheRootMeanSquarePerChannelOverEveryBatch() {
        INDArray x = npy("x.npy");
        InputMoments m = new InputMoments();
        m.observe("fc", x.get(NDArrayIndex.interval(0, 15), NDArrayIndex.all()).castTo(DataType.FLOAT));
        m.observe("fc", x.get(NDArrayIndex.interval(15, 40), NDArrayIndex.all()).castTo(DataType.FLOAT));
        assertThat(m.scales().get("fc").toDoubleVector()).containsExactly(npy("s.npy").toDoubleVector(), within(1e-5));
    }

    @Test
    void anObservedForwardSeesEveryLinearsInputAndChangesNoLogit() {
        ModelConfig cfg = Fixtures.config("vit_token");
        Vit vit = new Vit(cfg, ParamSet.of(VitLayout.parameterShapes(cfg), Fixtures.weights("vit_token"), false),
                Kernels.forBackend());
        INDArray images = Fixtures.npy("vit_token/input.npy");
        Vit.Activations a = vit.activations(4);
        vit.forward(a, images, null);
        INDArray before = a.logits().dup();
        Map<String, long[]> seen = new HashMap<>();
        vit.observeLinearInputs((name, in) -> seen.put(name, in.shape()));
        vit.forward(a, images, null);
        assertThat(maxDiff(a.logits(), before)).isZero();
        assertThat(seen).hasSize(2 + 4 * cfg.depth());
        assertThat(seen.get("blocks.1.mlp.fc2")).containsExactly(4L * cfg.numTokens(), cfg.mlpHiddenDim());
        assertThat(seen.get("head")).containsExactly(4L, cfg.embedDim());
    }

    /** Swin's engine shows its Linears' inputs the same way: patch embedding, every block's four, reductions, head. */
    @Test
    void anObservedSwinForwardSeesEveryLinearsInputAndChangesNoLogit() {
        SwinConfig cfg = SwinConfigJson.read(Fixtures.path("swin_io/config.json"));
        StateDict w = SwinCheckpoint.fromPyTorch(Fixtures.safetensors("swin_io/official.safetensors"), cfg, "swin_io");
        Swin swin = new Swin(cfg, ParamSet.of(SwinLayout.parameterShapes(cfg), w, false), Kernels.forBackend());
        INDArray images = Nd4j.rand(DataType.FLOAT, 3, 3, cfg.imgSize(), cfg.imgSize());
        Swin.Activations a = swin.activations(3);
        swin.forward(a, images, null);
        INDArray before = a.logits().dup();
        InputMoments moments = new InputMoments();
        Map<String, long[]> seen = new HashMap<>();
        swin.observeLinearInputs((name, in) -> {
            seen.put(name, in.shape());
            moments.observe(name, in);
        });
        swin.forward(a, images, null);
        assertThat(maxDiff(a.logits(), before)).isZero();
        java.util.List<String> linears = SwinLayout.linears(cfg).stream().map(ai.pela.zoo.vit.LinearSpec::name).toList();
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(linears);
        assertThat(seen.get("layers.0.downsample.reduction")).containsExactly(3L * cfg.tokens(1), 4L * cfg.dim(0));
        assertThat(seen.get("layers.1.blocks.1.mlp.fc2")).containsExactly(3L * cfg.tokens(1), cfg.mlpHiddenDim(1));
        assertThat(moments.scales().get("head").length()).isEqualTo(cfg.numFeatures());
    }

    /** ‖x·(W − P.1·P.0)ᵀ‖_F: what the layer's output loses on the calibration inputs. */
    private static double outputError(INDArray w, LowRank.Factors f, INDArray x) {
        INDArray wr = f.w1().castTo(DataType.DOUBLE).mmul(f.w0().castTo(DataType.DOUBLE));
        return x.mmul(w.castTo(DataType.DOUBLE).sub(wr).transpose()).norm2Number().doubleValue();
    }

    private static double maxDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
