package ai.pela.spark.train;

/**
 * The tree exchange's worker result, and the sum treeAggregate makes of them: parameters and AdamW moments
 * weighted by the worker's example count (so skipped images shift a worker's weight fairly), besides the tally.
 */
final class TreeResult extends LossTally {
    private static final long serialVersionUID = 1L;

    double[] params;
    double[] m;
    double[] v;

    static TreeResult zero() {
        return new TreeResult();
    }

    /** Adds {@code o} into this sum (treeAggregate's seqOp and combOp). */
    TreeResult add(TreeResult o) {
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
        addTally(o);
        return this;
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
