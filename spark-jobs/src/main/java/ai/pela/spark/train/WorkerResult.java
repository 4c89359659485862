package ai.pela.spark.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A worker's result, and also the running sum the driver aggregates: parameters and moments weighted by the
 * worker's example count, the example count, per-component loss sums (weighted by batch size), the slowest
 * worker's compute time, and the names of skipped bad samples. {@code nonFinite} names a loss component that
 * went NaN/Inf on some worker; the driver then rejects the round.
 */
public final class WorkerResult implements Serializable {
    private static final long serialVersionUID = 1L;
    static final int LOSSES = 4; // total, base, fd, rwp: the PELA step's; other steps grow the array

    double[] params;
    double[] m;
    double[] v;
    long examples;
    double[] lossSums = new double[LOSSES];
    /** The step's loss component names (null until a worker reports; PELA's when none did). */
    java.util.List<String> lossNames;
    long maxComputeNanos;
    long maxBroadcastFetchNanos;
    final List<String> skipped = new ArrayList<>();
    String nonFinite;
    /** Ring exchange, sent by rank 0 on checkpoint rounds only: the averaged state, packed as FP32 bytes. */
    byte[] ringParams;
    byte[] ringM;
    byte[] ringV;

    static WorkerResult zero() {
        return new WorkerResult();
    }

    /** Adds {@code other} into this sum (treeAggregate's seqOp and combOp). */
    WorkerResult add(WorkerResult o) {
        if (o.params != null) {
            if (params == null) {
                params = new double[o.params.length];
                m = new double[o.m.length];
                v = new double[o.v.length];
            }
            addInto(params, o.params);
            addInto(m, o.m);
            addInto(v, o.v);
        }
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
        if (o.ringParams != null) {
            ringParams = o.ringParams;
            ringM = o.ringM;
            ringV = o.ringV;
        }
        return this;
    }

    void ensureLosses(int n) {
        if (lossSums.length < n) {
            lossSums = java.util.Arrays.copyOf(lossSums, n);
        }
    }

    /** The component names, PELA's four when no worker named them. */
    java.util.List<String> names() {
        return lossNames != null ? lossNames : ai.pela.zoo.train.PelaStep.LOSS_NAMES;
    }

    private static void addInto(double[] acc, double[] x) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += x[i];
        }
    }

    static double[] weighted(float[] values, long weight) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (double) values[i] * weight;
        }
        return out;
    }

    static float[] average(double[] sum, long count) {
        float[] out = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            out[i] = (float) (sum[i] / count);
        }
        return out;
    }
}
