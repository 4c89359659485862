package ai.pela.spark.train;

/**
 * The ring exchange's worker result: the tally, and from rank 0 on checkpoint rounds only the averaged state every
 * worker now holds, packed as FP32 bytes (the parameters themselves are averaged among the workers).
 */
final class RingResult extends LossTally {
    private static final long serialVersionUID = 1L;

    byte[] params;
    byte[] m;
    byte[] v;

    static RingResult zero() {
        return new RingResult();
    }

    RingResult add(RingResult o) {
        addTally(o);
        if (o.params != null) {
            params = o.params;
            m = o.m;
            v = o.v;
        }
        return this;
    }
}
