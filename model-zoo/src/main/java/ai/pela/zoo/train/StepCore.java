package ai.pela.zoo.train;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.engine.EngineLosses;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.io.StateDict;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What the engine's PELA steps ({@link PelaStep} for ViT, {@link SwinPelaStep}) share beyond their networks: the
 * argument checks, L_rwp's setup, the loss assembly and the finite check before an update. One copy, so the two
 * families cannot drift apart in their semantics or their report.
 */
final class StepCore {
    private StepCore() {
    }

    /** The checks common to every family's PELA step; {@code shapes} is the student's parameter layout. */
    static void checkArguments(boolean hasHead, StateDict studentWeights, Map<String, long[]> shapes,
            boolean hasTeacher, StepHyper hyper) {
        if (!hasHead) {
            throw new PelaException("the config has num_classes 0 (no head); the PELA step trains a classifier");
        }
        studentWeights.checkMatches("student checkpoint", shapes);
        if (!hasTeacher && (hyper.alpha() != 0 || hyper.beta() != 0)) {
            throw new PelaException("alpha and beta must be 0 without a teacher");
        }
    }

    /** L_rwp over the student's decomposed linears, or null where the step has no such term. */
    static EngineLosses.WeightPerturbation weightPerturbation(ParamSet params, LowRankSpec lowrank,
            boolean hasTeacher, StateDict teacherWeights, StepHyper hyper, Kernels kernels) {
        boolean lowRank = lowrank != null && !lowrank.ranks().isEmpty();
        if (!hasTeacher || !lowRank) {
            if (hyper.beta() != 0) {
                throw new PelaException("beta > 0 needs a low-rank student (L_rwp bounds decomposed weights)");
            }
            return null;
        }
        if (teacherWeights == null) {
            throw new PelaException("L_rwp needs the teacher's dense weights");
        }
        List<String> linears = List.copyOf(lowrank.ranks().keySet());
        return new EngineLosses.WeightPerturbation(params, key -> teacherWeights.get(key).castTo(DataType.FLOAT),
                linears, hyper.rwpForm(), hyper.rwpEps(), kernels);
    }

    /**
     * L = L_base + α·L_fd + β·L_rwp after the student's backward ({@code fd} null without a teacher, {@code rwp}
     * null without L_rwp); applying L_rwp adds its gradient, so this runs once per pass.
     */
    static PelaStep.Losses losses(double base, EngineLosses.FeatureDistillation fd,
            EngineLosses.WeightPerturbation rwp, StepHyper hyper) {
        double fdValue = fd != null ? fd.value() : Double.NaN;
        double rwpValue = rwp != null ? rwp.apply(hyper.beta()) : Double.NaN;
        double total = base + (hyper.alpha() != 0 ? hyper.alpha() * fdValue : 0)
                + (hyper.beta() != 0 ? hyper.beta() * rwpValue : 0);
        return new PelaStep.Losses(total, base, fdValue, rwpValue);
    }

    /** Checks the losses, then one AdamW update of the flat parameter vector; the step's report. */
    static StepLosses update(PelaStep.Losses l, boolean hasFd, boolean hasRwp, Trainable trainable) {
        checkFinite(l, hasFd, hasRwp);
        Trainable.Update u = trainable.updateFlat();
        return new StepLosses(l.total(), l.base(), l.fd(), l.rwp(), u.gradNorm(), u.lr());
    }

    /** Fails before the update for the first component that is NaN or infinite (an absent one is NaN by design). */
    private static void checkFinite(PelaStep.Losses l, boolean hasFd, boolean hasRwp) {
        double[] values = {l.total(), l.base(), l.fd(), l.rwp()};
        boolean[] present = {true, true, hasFd, hasRwp};
        for (int i = 0; i < values.length; i++) {
            if (present[i] && !Double.isFinite(values[i])) {
                throw new NonFiniteLossException(PelaStep.LOSS_NAMES.get(i), values[i]);
            }
        }
    }
}
