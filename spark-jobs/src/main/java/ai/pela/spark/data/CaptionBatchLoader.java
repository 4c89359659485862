package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.CaptionText;
import ai.pela.zoo.text.TokenBatch;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The executor side of image-text data: the images of a minibatch through {@link BatchLoader} (same decoding,
 * augmentation seeds and {@link BadImagePolicy}), and for each image that survived its caption for the epoch
 * ({@link CaptionChoice}), cleaned by ALBEF's {@code pre_caption} and tokenised.
 */
public final class CaptionBatchLoader implements AutoCloseable {
    /**
     * Images [n, 3, H, W], the token ids and attention mask [n, L] of their captions, the captions as used (after
     * clean-up), the labels (image indices, see {@link Sample}), and the locations of the images left out.
     */
    public record CaptionBatch(INDArray images, TokenBatch text, List<String> captions, int[] labels,
            List<String> skipped) {
        public int size() {
            return labels.length;
        }
    }

    /** How captions become tokens: ALBEF's pre_caption word limit, the token limit and the padding. */
    public record TextSpec(int maxWords, int maxTokens, BertTokenizer.Padding padding) {
        /** ALBEF's pre-training: 30 words, 25 tokens, padded to the longest caption of the batch. */
        public static TextSpec albefPretrain() {
            return new TextSpec(CaptionText.ALBEF_MAX_WORDS, CaptionText.ALBEF_PRETRAIN_MAX_TOKENS,
                    BertTokenizer.Padding.LONGEST);
        }
    }

    private final BatchLoader images;
    private final BertTokenizer tokenizer;
    private final TextSpec spec;

    public CaptionBatchLoader(Storage storage, ImageTransform transform, BadImagePolicy policy, int threads,
            BertTokenizer tokenizer, TextSpec spec) {
        this.images = new BatchLoader(storage, transform, policy, threads);
        this.tokenizer = tokenizer;
        this.spec = spec;
    }

    /**
     * Loads a batch; {@code seeds[i]} seeds the augmentation of sample i, and ({@code runSeed}, {@code epoch})
     * choose the captions of multi-caption samples.
     */
    public CaptionBatch load(List<Sample> samples, long[] seeds, long runSeed, int epoch) {
        BatchLoader.Batch b = images.load(samples, seeds);
        List<String> captions = new ArrayList<>(b.kept().length);
        for (int position : b.kept()) {
            String chosen = CaptionChoice.pick(samples.get(position), runSeed, epoch);
            captions.add(CaptionText.preCaption(chosen, spec.maxWords()));
        }
        TokenBatch text = tokenizer.encodeBatch(captions, spec.maxTokens(), spec.padding());
        return new CaptionBatch(b.images(), text, List.copyOf(captions), b.labels(), b.skipped());
    }

    @Override
    public void close() {
        images.close();
    }
}
