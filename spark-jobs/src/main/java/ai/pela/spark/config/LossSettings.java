package ai.pela.spark.config;

import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;

/** {@code pela.loss}: PELA's L_base + α·L_fd + β·L_rwp (α and β apply to pretrain only). */
public record LossSettings(double alpha, double beta, FdForm fdForm, RwpForm rwpForm, double rwpEps) {

    public static LossSettings from(Recipe r) {
        return new LossSettings(r.number("loss.alpha"), r.number("loss.beta"), r.fdForm(), r.rwpForm(),
                r.number("loss.rwp-eps"));
    }
}
