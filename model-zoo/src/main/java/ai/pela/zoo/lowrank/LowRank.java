package ai.pela.zoo.lowrank;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PELA's low-rank surgery (PELA.md §1): every Linear W [d_out, d_in] whose name contains none of the omit
 * strings and whose d_out ≥ 10 becomes {@code P.0} (d_in → r, no bias) followed by {@code P.1} (r → d_out, the
 * original bias), initialised from a truncated SVD of Wᵀ split as √Σ on both sides. Works on a checkpoint, so it
 * runs wherever the arrays are.
 *
 * <p>Issue 24 adds two choices: the ranks from one κ or from a parameter budget ({@link RankPolicy},
 * {@link RankBudget}), and the SVD of W or, activation-aware, of W·S with S = diag(input RMS per channel)
 * ({@link InputMoments}), S⁻¹ folded back into P.0.
 */
public final class LowRank {
    private static final Logger LOG = LoggerFactory.getLogger(LowRank.class);

    /** ViT / DeiT / DeiT-III omit rules of the released code. */
    public static final List<String> VIT_OMIT = List.of("norm", "head", "patch_embed", "downsample");
    /** Swin omit rules of PELA's released Swin code: the attention output projections stay dense as well. */
    public static final List<String> SWIN_OMIT = List.of("norm", "head", "patch_embed", "downsample", "attn.proj");
    /** ALBEF omit rules of the released code: the MLM head ({@code text_encoder.cls.*}) and the contrastive projections. */
    public static final List<String> ALBEF_OMIT = List.of("cls", "_proj");
    /** Linears with fewer outputs than this are never decomposed. */
    public static final int MIN_D_OUT = 10;

    /** A decomposed Linear: {@code w0} [r, d_in], {@code w1} [d_out, r]. */
    public record Factors(INDArray w0, INDArray w1) {
    }

    /** A compressed model: the student's config (with its lowrank block) and its checkpoint. */
    public record Student(ModelConfig config, StateDict weights) {
    }

    private LowRank() {
    }

    public static void checkKappa(double kappa) {
        if (!(kappa > 0) || Double.isInfinite(kappa)) {
            throw new PelaException("kappa must be a positive number, got " + kappa);
        }
    }

    /** r = floor(d_in·d_out / (κ·(d_in + d_out))), at least 1, at most min(d_in, d_out). */
    public static int rank(int dIn, int dOut, double kappa) {
        checkKappa(kappa);
        double r = Math.floor((double) dIn * dOut / (kappa * (dIn + dOut)));
        return (int) Math.max(1, Math.min(r, Math.min(dIn, dOut)));
    }

    /** Which Linears of {@code config} to decompose at {@code kappa}, and their ranks. */
    public static LowRankSpec plan(ModelConfig config, double kappa, List<String> omit) {
        return plan(VitLayout.linears(config), kappa, omit);
    }

    /** Which of {@code linears} (a model's dense Linears, e.g. from its layout class) to decompose, and their ranks. */
    public static LowRankSpec plan(List<LinearSpec> linears, double kappa, List<String> omit) {
        checkKappa(kappa);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (LinearSpec l : linears) {
            if (isDecomposable(l, omit)) {
                ranks.put(l.name(), rank(l.dIn(), l.dOut(), kappa));
            }
        }
        return new LowRankSpec(kappa, omit, ranks);
    }

    /**
     * Which Linears to decompose and their ranks under {@code policy}; a budget needs the teacher's weights (their
     * spectra), scaled by {@code inputScales}. Activation-aware ({@code inputScales} not empty), every scale must have
     * its Linear's d_in channels and every decomposed Linear a scale: one left out would silently get plain SVD.
     */
    public static LowRankSpec plan(List<LinearSpec> linears, StateDict teacher, RankPolicy policy, List<String> omit,
            Map<String, INDArray> inputScales) {
        checkScaleWidths(linears, inputScales);
        LowRankSpec spec = policy instanceof RankPolicy.Budget b
                ? RankBudget.plan(linears, teacher, b.share(), omit, inputScales)
                : plan(linears, ((RankPolicy.Uniform) policy).kappa(), omit);
        if (!inputScales.isEmpty()) {
            for (LinearSpec l : linears) {
                if (spec.isDecomposed(l.name()) && !inputScales.containsKey(l.name())) {
                    throw new PelaException("activation-aware SVD: the calibration pass saw no input of " + l.name());
                }
            }
        }
        return spec;
    }

    private static void checkScaleWidths(List<LinearSpec> linears, Map<String, INDArray> inputScales) {
        for (LinearSpec l : linears) {
            INDArray s = inputScales.get(l.name());
            if (s != null && s.length() != l.dIn()) {
                throw new PelaException("activation-aware SVD: the input scale of " + l.name() + " has " + s.length()
                        + " channels, the Linear takes " + l.dIn());
            }
        }
    }

    /** A dense teacher's {@code linears} planned and decomposed: the student's lowrank block and its checkpoint. */
    public record Surgery(LowRankSpec spec, StateDict weights) {
    }

    /**
     * The surgery every family runs: {@link #plan} under {@code policy}, then {@link #decompose}, activation-aware
     * where {@code inputScales} has a Linear. {@code existing} is the teacher config's lowrank block, which must be null.
     */
    public static Surgery surgery(LowRankSpec existing, List<LinearSpec> linears, StateDict teacher, RankPolicy policy,
            List<String> omit, Map<String, INDArray> inputScales) {
        if (existing != null) {
            throw new PelaException("the model is already low-rank (its config has a lowrank block); compress a dense teacher");
        }
        LowRankSpec spec = plan(linears, teacher, policy, omit, inputScales);
        return new Surgery(spec, decompose(teacher, spec, inputScales));
    }

    static boolean isDecomposable(LinearSpec l, List<String> omit) {
        return !l.conv() && l.dOut() >= MIN_D_OUT && omit.stream().noneMatch(o -> l.name().contains(o));
    }

    /** Compresses a dense teacher into a PELA student at compression ratio {@code kappa}. */
    public static Student compress(ModelConfig teacherConfig, StateDict teacher, double kappa, List<String> omit) {
        return compress(teacherConfig, teacher, new RankPolicy.Uniform(kappa), omit, Map.of());
    }

    /** Compresses a ViT-family teacher under {@code policy}; activation-aware where {@code inputScales} has a Linear. */
    public static Student compress(ModelConfig teacherConfig, StateDict teacher, RankPolicy policy, List<String> omit,
            Map<String, INDArray> inputScales) {
        Surgery s = surgery(teacherConfig.lowrank(), VitLayout.linears(teacherConfig), teacher, policy, omit,
                inputScales);
        return new Student(teacherConfig.withLowRank(s.spec()), s.weights());
    }

    /** Replaces each Linear named in {@code spec} by its two SVD factors; every other tensor is kept as it is. */
    public static StateDict decompose(StateDict teacher, LowRankSpec spec) {
        return decompose(teacher, spec, Map.of());
    }

    /** As above, the SVD activation-aware for each Linear that {@code inputScales} has (its input RMS per channel). */
    public static StateDict decompose(StateDict teacher, LowRankSpec spec, Map<String, INDArray> inputScales) {
        StateDict out = new StateDict();
        int done = 0;
        for (Map.Entry<String, INDArray> e : teacher.asMap().entrySet()) {
            String key = e.getKey();
            String linear = linearOf(key);
            if (linear == null || !spec.isDecomposed(linear)) {
                out.put(key, e.getValue());
            } else if (key.endsWith(".weight")) {
                Factors f = svdSplit(e.getValue(), spec.rank(linear), inputScales.get(linear));
                out.put(linear + ".0.weight", f.w0());
                out.put(linear + ".1.weight", f.w1());
                if (teacher.contains(linear + ".bias")) {
                    out.put(linear + ".1.bias", teacher.get(linear + ".bias"));
                }
                done++;
                LOG.debug("decomposed {} {} at rank {} ({}/{})", linear, java.util.Arrays.toString(e.getValue().shape()),
                        spec.rank(linear), done, spec.ranks().size());
            }
        }
        if (done != spec.ranks().size()) {
            throw new PelaException("checkpoint lacks weights for " + (spec.ranks().size() - done)
                    + " of the Linears the low-rank plan names");
        }
        return out;
    }

    private static String linearOf(String key) {
        if (key.endsWith(".weight")) {
            return key.substring(0, key.length() - ".weight".length());
        }
        if (key.endsWith(".bias")) {
            return key.substring(0, key.length() - ".bias".length());
        }
        return null;
    }

    /**
     * Best rank-r factorisation of W [d_out, d_in]: with Wᵀ = U Σ Vᴴ, {@code P.0.weight = (U_r √Σ_r)ᵀ} and
     * {@code P.1.weight = (√Σ_r Vᴴ_r)ᵀ}, so {@code P.1.weight · P.0.weight} is the truncated SVD of W. Computed in
     * double precision (LAPACK gesvd) so a full-rank split reproduces W to float rounding.
     */
    public static Factors svdSplit(INDArray w, int r) {
        return svdSplit(w, r, null);
    }

    /**
     * Activation-aware split (ASVD's scaling, Yuan et al. 2023, with S = diag(s), s the input's RMS per channel,
     * so that ‖(W − W')·S‖ is the layer's output error when channels are uncorrelated): the SVD is taken of
     * (W·S)ᵀ = S·Wᵀ and S⁻¹ is folded into P.0, so P.1·P.0 = (W·S)_r·S⁻¹ in PELA's layout. {@code s} null: plain.
     */
    public static Factors svdSplit(INDArray w, int r, INDArray s) {
        long dOut = w.size(0);
        long dIn = w.size(1);
        if (r < 1 || r > Math.min(dIn, dOut)) {
            throw new IllegalArgumentException("rank " + r + " outside [1, " + Math.min(dIn, dOut) + "]");
        }
        INDArray a = scaledTranspose(w, s); // S·Wᵀ [d_in, d_out]
        INDArray sigma = Nd4j.create(DataType.DOUBLE, Math.min(dIn, dOut));
        INDArray u = Nd4j.create(DataType.DOUBLE, new long[] {dIn, dIn}, 'f');
        INDArray vt = Nd4j.create(DataType.DOUBLE, new long[] {dOut, dOut}, 'f');
        Nd4j.getBlasWrapper().lapack().gesvd(a, sigma, u, vt);
        INDArray sqrtS = org.nd4j.linalg.ops.transforms.Transforms.sqrt(sigma.get(NDArrayIndex.interval(0, r)), true);
        INDArray ur = u.get(NDArrayIndex.all(), NDArrayIndex.interval(0, r)).mulRowVector(sqrtS);   // [d_in, r]
        INDArray vr = vt.get(NDArrayIndex.interval(0, r), NDArrayIndex.all()).mulColumnVector(sqrtS.reshape(r, 1)); // [r, d_out]
        if (s != null) {
            ur.diviColumnVector(s.castTo(DataType.DOUBLE).reshape(dIn, 1)); // S⁻¹ folded into P.0
        }
        INDArray w0 = ur.transpose().castTo(DataType.FLOAT).dup('c');
        INDArray w1 = vr.transpose().castTo(DataType.FLOAT).dup('c');
        return new Factors(w0, w1);
    }

    /** The squared singular values of W·S (of W when {@code s} is null), largest first: what each rank step keeps. */
    public static double[] spectrum(INDArray w, INDArray s) {
        INDArray sigma = Nd4j.create(DataType.DOUBLE, Math.min(w.size(0), w.size(1)));
        Nd4j.getBlasWrapper().lapack().gesvd(scaledTranspose(w, s), sigma, null, null);
        return sigma.mul(sigma).toDoubleVector();
    }

    /** S·Wᵀ [d_in, d_out] in double, column-major for LAPACK (which overwrites it). */
    private static INDArray scaledTranspose(INDArray w, INDArray s) {
        INDArray a = w.castTo(DataType.DOUBLE).transpose().dup('f');
        if (s != null) {
            if (s.length() != w.size(1)) {
                throw new IllegalArgumentException("input scale has " + s.length() + " channels, the weight " + w.size(1));
            }
            a.muliColumnVector(s.castTo(DataType.DOUBLE).reshape(w.size(1), 1));
        }
        return a;
    }
}
