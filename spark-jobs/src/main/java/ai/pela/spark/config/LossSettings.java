package ai.pela.spark.config;

import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.loss.RwpForm;

/**
 * {@code pela.loss}: PELA's L_base + α·L_fd + β·L_rwp (α and β apply to pretrain only).
 *
 * @param fdPoints where L_fd compares student and teacher: every block's output, or the final pooled feature only
 */
public record LossSettings(double alpha, double beta, FdForm fdForm, RwpForm rwpForm, double rwpEps, FdPoints fdPoints) {

    public static LossSettings from(Recipe r) {
        return new LossSettings(r.number("loss.alpha"), r.number("loss.beta"), r.fdForm(), r.rwpForm(),
                r.number("loss.rwp-eps"), r.choice("loss.fd-points", FdPoints.class));
    }
}
