package ai.pela.spark.train;

/**
 * One round's numbers: mean losses per example, throughput, and the time split. {@code broadcastS} is the
 * driver's broadcast plus the slowest executor's fetch of it, {@code computeS} the slowest worker's k steps,
 * {@code aggregateS} the rest of the round (scheduling, result transfer, treeAggregate, averaging).
 */
public record RoundMetrics(int round, int epoch, int roundInEpoch, long examples, double loss, double lossBase,
        double lossFd, double lossRwp, double lr, double imagesPerS, double broadcastS, double computeS,
        double aggregateS, double totalS, int skipped) {
}
