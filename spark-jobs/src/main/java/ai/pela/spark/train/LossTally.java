package ai.pela.spark.train;

import ai.pela.zoo.train.PelaStep;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What every worker reports whichever way the round is exchanged, and the running sum the driver makes of it: the
 * example count, per-component loss sums (weighted by batch size), the slowest worker's compute and broadcast-fetch
 * times, and the names of skipped bad samples. {@code nonFinite} names a loss component that went NaN/Inf on some
 * worker; the driver then rejects the round. Each exchange's result type adds its own state ({@link TreeResult},
 * {@link RingResult}).
 */
class LossTally implements Serializable {
    private static final long serialVersionUID = 1L;
    static final int LOSSES = 4; // total, base, fd, rwp: the PELA step's; other steps grow the array

    long examples;
    double[] lossSums = new double[LOSSES];
    /** The step's loss component names (null until a worker reports; PELA's when none did). */
    List<String> lossNames;
    long maxComputeNanos;
    long maxBroadcastFetchNanos;
    final List<String> skipped = new ArrayList<>();
    String nonFinite;

    /** Adds {@code o}'s counts, losses and flags into this sum. */
    void addTally(LossTally o) {
        examples += o.examples;
        ensureLosses(o.lossSums.length);
        for (int i = 0; i < o.lossSums.length; i++) {
            lossSums[i] += o.lossSums[i];
        }
        if (lossNames == null) {
            lossNames = o.lossNames;
        }
        maxComputeNanos = Math.max(maxComputeNanos, o.maxComputeNanos);
        maxBroadcastFetchNanos = Math.max(maxBroadcastFetchNanos, o.maxBroadcastFetchNanos);
        skipped.addAll(o.skipped);
        if (nonFinite == null) {
            nonFinite = o.nonFinite;
        }
    }

    void ensureLosses(int n) {
        if (lossSums.length < n) {
            lossSums = Arrays.copyOf(lossSums, n);
        }
    }

    /** The component names, PELA's four when no worker named them. */
    List<String> names() {
        return lossNames != null ? lossNames : PelaStep.LOSS_NAMES;
    }
}
