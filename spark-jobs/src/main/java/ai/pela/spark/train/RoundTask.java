package ai.pela.spark.train;

import ai.pela.spark.data.Sample;
import java.io.Serializable;
import java.util.List;

/** One worker's share of a round: k batches of samples and the seed of each batch's augmentation. */
public record RoundTask(int round, int worker, List<List<Sample>> batches, long[] seeds) implements Serializable {
}
