package ai.pela.spark.train;

import ai.pela.spark.data.Sample;
import java.io.Serializable;
import java.util.List;

/**
 * Turns the samples of one local step into a batch on an executor (read, decode, augment, normalise).
 * {@code seed} determines all randomness, so a retried task sees exactly the same batch.
 */
public interface BatchSource extends Serializable {
    LoadedBatch load(List<Sample> samples, long seed);
}
