package ai.pela.spark.jobs;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.LoadedBatch;
import java.util.List;

/**
 * The ViT family's batches: labelled images read, decoded, augmented and normalised on the executor through
 * {@link BatchLoader}; per-image seeds are drawn from the batch's seed.
 */
final class ImageBatchSource implements BatchSource {
    private static final long serialVersionUID = 1L;
    private final SerializableConf hadoop;
    private final ImageTransform transform;
    private final BadImagePolicy policy;

    ImageBatchSource(SerializableConf hadoop, ImageTransform transform, BadImagePolicy policy) {
        this.hadoop = hadoop;
        this.transform = transform;
        this.policy = policy;
    }

    @Override
    public LoadedBatch load(List<Sample> samples, long seed) {
        long[] seeds = BatchLoader.imageSeeds(samples.size(), seed);
        try (BatchLoader loader = new BatchLoader(hadoop.storage(), transform, policy)) {
            BatchLoader.Batch b = loader.load(samples, seeds);
            return new LoadedBatch(b.images(), b.labels(), b.skipped());
        }
    }
}
