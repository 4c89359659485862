package ai.pela.zoo.train;

import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;

/**
 * Hyper-parameters of one training step: L = L_base + α·L_fd + β·L_rwp, AdamW, schedule and clipping.
 * {@code alpha = beta = 0} with no teacher is plain supervised training (how the demo's teacher is made).
 *
 * @param clipNorm global gradient-norm limit; 0 or less turns clipping off
 * @param fdPoints where L_fd compares student and teacher: every block's output (the paper, the default) or only
 *                 the final pooled feature (PELA's released Swin code)
 */
public record StepHyper(double alpha, double beta, double labelSmoothing, FdForm fdForm, RwpForm rwpForm,
        double rwpEps, double clipNorm, AdamW.Config adamw, CosineSchedule schedule, FdPoints fdPoints)
        implements java.io.Serializable {

    public StepHyper {
        if (fdPoints == null) {
            fdPoints = FdPoints.BLOCKS;
        }
    }

    /** L_fd over every block's output. */
    public StepHyper(double alpha, double beta, double labelSmoothing, FdForm fdForm, RwpForm rwpForm,
            double rwpEps, double clipNorm, AdamW.Config adamw, CosineSchedule schedule) {
        this(alpha, beta, labelSmoothing, fdForm, rwpForm, rwpEps, clipNorm, adamw, schedule, FdPoints.BLOCKS);
    }

    public static StepHyper supervised(double lr, double weightDecay, double labelSmoothing) {
        return new StepHyper(0, 0, labelSmoothing, FdForm.CODE, RwpForm.CODE, 1e-3, 0,
                AdamW.Config.defaults(weightDecay), CosineSchedule.constant(lr));
    }

    public StepHyper withSchedule(CosineSchedule s) {
        return new StepHyper(alpha, beta, labelSmoothing, fdForm, rwpForm, rwpEps, clipNorm, adamw, s, fdPoints);
    }

    public StepHyper withFdPoints(FdPoints points) {
        return new StepHyper(alpha, beta, labelSmoothing, fdForm, rwpForm, rwpEps, clipNorm, adamw, schedule, points);
    }
}
