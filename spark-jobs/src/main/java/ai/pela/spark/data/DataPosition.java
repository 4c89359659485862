package ai.pela.spark.data;

import java.io.Serializable;

/**
 * Where a run is in its data: the epoch, and how many samples of that epoch's seeded order have been consumed.
 * Counted in samples rather than rounds, so that it means the same under any worker count, batch size or k: a run
 * resumed under another plan continues at the same sample.
 */
public record DataPosition(int epoch, long samples) implements Serializable {
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || samples < 0) {
            throw new IllegalArgumentException("negative data position: epoch " + epoch + ", sample " + samples);
        }
    }
}
