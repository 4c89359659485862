package ai.pela.spark.config;

import ai.pela.spark.train.ParameterAveraging.Exchange;
import ai.pela.spark.train.WirePrecision;
import ai.pela.spark.train.WireSecurity;

/**
 * {@code pela.train}: the plan's shape (workers × k × batch), how the workers exchange, and the optimiser. k
 * ({@code localSteps}) is this one value everywhere: it sets how many batches a task runs and how far the optimiser
 * step advances per round.
 */
public record TrainSettings(int epochs, int batchSize, int workers, int localSteps, Exchange exchange,
        WirePrecision precision, WireSecurity security, int maxRounds, double lr, double minLr, double warmupLr, double warmupEpochs,
        double weightDecay, double clipGrad, double labelSmoothing) {

    public static TrainSettings from(Recipe r) {
        return new TrainSettings(r.positive("train.epochs"), r.positive("train.batch-size"), r.positive("train.workers"),
                r.positive("train.local-steps"), Exchange.parse(r.string("train.exchange"), "train.exchange"),
                WirePrecision.parse(r.string("train.exchange-precision"), "train.exchange-precision"),
                WireSecurity.parse(r.string("train.exchange-security"), "train.exchange-security"),
                r.integer("train.max-rounds"), r.number("train.lr"), r.number("train.min-lr"),
                r.number("train.warmup-lr"), r.number("train.warmup-epochs"), r.number("train.weight-decay"),
                r.number("train.clip-grad"), r.number("train.label-smoothing"));
    }
}
