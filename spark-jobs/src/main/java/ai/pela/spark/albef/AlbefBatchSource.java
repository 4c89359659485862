package ai.pela.spark.albef;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.CaptionBatchLoader;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefBatch;
import ai.pela.zoo.albef.AlbefTrainBatch;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.MlmMasking;
import ai.pela.zoo.text.TokenBatch;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of ALBEF pre-training: images decoded and augmented, captions chosen, cleaned and tokenised
 * ({@link CaptionBatchLoader}, the same bad-image policy as every job), then MLM-masked. All randomness comes from
 * the batch's seed — the crops, the caption of a multi-caption sample (a fresh draw per round, as ALBEF draws per
 * {@code __getitem__}), the masking and, in the step, the hard negatives — so a retried task or a resumed run
 * sees exactly the same batch.
 */
public final class AlbefBatchSource implements BatchSource {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AlbefBatchSource.class);
    private static final long MASK_STREAM = 0x6A09E667F3BCC909L;
    /** Redraws of a masking that chose no token at all; each has probability (1 − p)^tokens. */
    private static final int MASK_TRIES = 100;

    private final SerializableConf hadoop;
    private final ImageTransform transform;
    private final BadImagePolicy policy;
    private final int maxWords;
    private final int textLength;
    private final double maskProbability;

    public AlbefBatchSource(SerializableConf hadoop, ImageTransform transform, BadImagePolicy policy,
            CaptionBatchLoader.TextSpec text, double maskProbability) {
        if (text.padding() != BertTokenizer.Padding.MAX_LENGTH) {
            throw new IllegalArgumentException("ALBEF's graphs are built for one caption length: pad to the maximum");
        }
        this.hadoop = hadoop;
        this.transform = transform;
        this.policy = policy;
        this.maxWords = text.maxWords();
        this.textLength = text.maxTokens();
        this.maskProbability = maskProbability;
    }

    @Override
    public LoadedBatch load(List<Sample> samples, long seed) {
        long[] seeds = BatchLoader.imageSeeds(samples.size(), seed);
        BertTokenizer tokenizer = BertTokenizer.bertBaseUncased();
        CaptionBatchLoader.CaptionBatch b;
        CaptionBatchLoader.TextSpec text = new CaptionBatchLoader.TextSpec(maxWords, textLength,
                BertTokenizer.Padding.MAX_LENGTH);
        try (CaptionBatchLoader loader = new CaptionBatchLoader(hadoop.storage(), transform, policy, 1, tokenizer, text)) {
            b = loader.load(samples, seeds, seed, 0);
        }
        if (b.size() < 2) {
            // ITM's hard negatives are other pairs of the batch: one pair alone cannot be trained on.
            if (b.size() == 1) {
                LOG.warn("batch of {} left with one pair after skipping bad images; not trained on", samples.size());
            }
            b.images().close();
            int s = transform.imgSize();
            return new LoadedBatch(Nd4j.zeros(DataType.FLOAT, 0, 3, s, s), new int[0], b.skipped());
        }
        TokenBatch t = b.text();
        MlmMasking.Masked masked = mask(new MlmMasking(tokenizer, maskProbability), t, seed, b.captions());
        AlbefBatch pairs = new AlbefBatch(b.images(), t.idsArray(), t.maskArray(DataType.INT32), masked.inputIdsArray(),
                masked.labelsArray(), null, null);
        return new LoadedBatch(new AlbefTrainBatch(pairs, seed), b.skipped());
    }

    /** ALBEF's masking; a draw that masked nothing is redrawn (MLM needs at least one target per batch). */
    private static MlmMasking.Masked mask(MlmMasking masking, TokenBatch t, long seed, List<String> captions) {
        SplittableRandom seeds = new SplittableRandom(seed ^ MASK_STREAM);
        for (int i = 0; i < MASK_TRIES; i++) {
            MlmMasking.Masked m = masking.mask(t, seeds.nextLong());
            for (int label : m.labels()) {
                if (label != MlmMasking.IGNORE) {
                    return m;
                }
            }
        }
        throw new PelaException("no caption token of the batch could be masked in " + MASK_TRIES + " draws (are the "
                + "captions empty?): " + captions);
    }
}
