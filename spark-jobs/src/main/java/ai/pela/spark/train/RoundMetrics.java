package ai.pela.spark.train;

import java.util.Map;

/**
 * One round's numbers: mean losses per example, throughput, and the time split. {@code broadcastS} is the
 * driver's broadcast plus the slowest executor's fetch of it, {@code computeS} the slowest worker's k steps,
 * {@code aggregateS} the rest of the round (scheduling, result transfer, treeAggregate, averaging).
 *
 * <p>The PELA step's components are the named fields (fd and rwp 0 when not computed, as they always were);
 * another step (a dense head's) reports its total as {@code loss}, NaN in base/fd/rwp, and its own components in
 * {@code components} by short name ({@code "cls"} for {@code loss.cls}), in the step's order.
 */
public record RoundMetrics(int round, int epoch, int roundInEpoch, long examples, double loss, double lossBase,
        double lossFd, double lossRwp, double lr, double imagesPerS, double broadcastS, double computeS,
        double aggregateS, double totalS, int skipped, Map<String, Double> components) {

    public RoundMetrics {
        components = components == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(components));
    }

    /** A round of the PELA / classification step. */
    public RoundMetrics(int round, int epoch, int roundInEpoch, long examples, double loss, double lossBase,
            double lossFd, double lossRwp, double lr, double imagesPerS, double broadcastS, double computeS,
            double aggregateS, double totalS, int skipped) {
        this(round, epoch, roundInEpoch, examples, loss, lossBase, lossFd, lossRwp, lr, imagesPerS, broadcastS,
                computeS, aggregateS, totalS, skipped, Map.of());
    }
}
