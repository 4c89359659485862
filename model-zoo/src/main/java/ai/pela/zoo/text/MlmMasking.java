package ai.pela.zoo.text;

import java.util.SplittableRandom;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Masked-language-model inputs as ALBEF's {@code mask()} makes them: each eligible token is chosen with probability
 * {@code probability} (0.15, ALBEF's mask_prob); of the chosen, 80 % become [MASK], 10 % a token drawn uniformly
 * from the whole vocabulary, 10 % stay as they are. Labels hold the original id at chosen positions and −100
 * (PyTorch's ignore_index) everywhere else.
 *
 * <p>Eligible: every real token except [CLS] and [SEP]; padding never. (ALBEF itself only spares [CLS] and
 * [PAD], so it occasionally asks the model to predict [SEP]; Hugging Face's MLM collator spares all special
 * tokens, which is what this does.) Everything is drawn from one {@link SplittableRandom} seeded by the caller,
 * in row-major order, so a batch's masking is a pure function of (batch, seed).
 */
public final class MlmMasking {
    public static final int IGNORE = -100;

    /** Masked input ids and labels, both [batch, length] row-major like the {@link TokenBatch} they came from. */
    public record Masked(int batch, int length, int[] inputIds, int[] labels) {
        public INDArray inputIdsArray() {
            return Nd4j.createFromArray(inputIds).reshape(batch, length);
        }

        public INDArray labelsArray() {
            return Nd4j.createFromArray(labels).reshape(batch, length);
        }
    }

    private final int vocabSize;
    private final int maskId;
    private final int clsId;
    private final int sepId;
    private final double probability;

    public MlmMasking(BertTokenizer tokenizer, double probability) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("mask probability " + probability + " outside [0, 1]");
        }
        this.vocabSize = tokenizer.vocabSize();
        this.maskId = tokenizer.maskId();
        this.clsId = tokenizer.clsId();
        this.sepId = tokenizer.sepId();
        this.probability = probability;
    }

    public Masked mask(TokenBatch batch, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] input = batch.ids().clone();
        int[] labels = new int[input.length];
        for (int i = 0; i < input.length; i++) {
            labels[i] = IGNORE;
            if (eligible(batch, i) && rng.nextDouble() < probability) {
                labels[i] = input[i];
                input[i] = replacement(input[i], rng);
            }
        }
        return new Masked(batch.batch(), batch.length(), input, labels);
    }

    private boolean eligible(TokenBatch batch, int i) {
        int id = batch.ids()[i];
        return batch.mask()[i] == 1 && id != clsId && id != sepId;
    }

    private int replacement(int original, SplittableRandom rng) {
        double r = rng.nextDouble();
        if (r < 0.8) {
            return maskId;
        }
        return r < 0.9 ? rng.nextInt(vocabSize) : original;
    }
}
