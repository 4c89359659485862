package ai.pela.cli;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.Storage;
import ai.pela.spark.config.ModelSettings.Ranks;
import ai.pela.spark.config.ModelSettings.SvdInit;
import ai.pela.spark.jobs.Calibration;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.swin.SwinConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Option;

/** The student's surgery on the command line (compress, model-info): rank policy and SVD initialisation (issue 24). */
final class SurgeryOptions {
    @Option(names = "--kappa", description = "Compression ratio (rank policy uniform): "
            + "r = floor(d_in*d_out / (kappa*(d_in+d_out))).")
    Double kappa;

    @Option(names = "--rank-policy", defaultValue = "uniform", converter = RanksChoice.class, description = "uniform "
            + "(PELA: one kappa for every Linear) or budget (--param-budget spread where the error drops most per "
            + "parameter); default ${DEFAULT-VALUE}.")
    Ranks rankPolicy;

    @Option(names = "--param-budget", description = "Rank policy budget: the student's share of the decomposed "
            + "Linears' parameters, in (0, 1], e.g. 0.5.")
    Double paramBudget;

    @Option(names = "--svd-init", defaultValue = "plain", converter = SvdInitChoice.class, description = "plain (SVD of "
            + "W) or activation-aware (SVD of W*S, S = input RMS per channel over --calibration images; ASVD); default "
            + "${DEFAULT-VALUE}.")
    SvdInit svdInit;

    static final class RanksChoice extends Choice<Ranks> {
        RanksChoice() {
            super(Ranks.class);
        }
    }

    static final class SvdInitChoice extends Choice<SvdInit> {
        SvdInitChoice() {
            super(SvdInit.class);
        }
    }

    @Option(names = "--calibration", description = "Activation-aware: a split folder of class folders (e.g. "
            + "data/train) whose images calibrate the input statistics.")
    Path calibration;

    @Option(names = "--calibration-images", defaultValue = "256", description = "Activation-aware: how many of those "
            + "images, spread evenly (default: ${DEFAULT-VALUE}).")
    int calibrationImages;

    /** Whether the options describe a student at all (model-info shows the teacher alone otherwise). */
    boolean givesStudent() {
        return kappa != null || rankPolicy == Ranks.BUDGET;
    }

    RankPolicy policy() {
        if (rankPolicy == Ranks.UNIFORM && kappa == null) {
            throw new PelaException("--kappa is required with --rank-policy uniform");
        }
        if (rankPolicy == Ranks.BUDGET && paramBudget == null) {
            throw new PelaException("--param-budget is required with --rank-policy budget");
        }
        return rankPolicy.with(kappa == null ? Double.NaN : kappa, paramBudget == null ? Double.NaN : paramBudget);
    }

    boolean activationAware() {
        if (svdInit == SvdInit.ACTIVATION_AWARE && calibration == null) {
            throw new PelaException("--svd-init activation-aware needs --calibration <image folder>");
        }
        return svdInit == SvdInit.ACTIVATION_AWARE;
    }

    /** Whether the plan reads the teacher's weights (their spectra or their activations). */
    boolean needsWeights() {
        return rankPolicy == Ranks.BUDGET || activationAware();
    }

    /** Each Linear's input RMS per channel when activation-aware, else empty (plain SVD). */
    Map<String, INDArray> inputScales(ModelConfig teacherConfig, StateDict teacher) {
        return activationAware() ? Calibration.inputScales(Storage.local(), calibrationImages(), calibrationImages,
                teacherConfig, teacher, BadImagePolicy.SKIP) : Map.of();
    }

    /** The same for a Swin teacher. */
    Map<String, INDArray> inputScales(SwinConfig teacherConfig, StateDict teacher) {
        return activationAware() ? Calibration.inputScales(Storage.local(), calibrationImages(), calibrationImages,
                teacherConfig, teacher, BadImagePolicy.SKIP) : Map.of();
    }

    private List<Sample> calibrationImages() {
        return Calibration.folder(Storage.local(), calibration.toAbsolutePath().toString());
    }
}
