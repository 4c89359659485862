package ai.pela.zoo.albef;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One ALBEF pre-training batch of N image-caption pairs, captions padded to a common length L.
 *
 * @param images        [N, C, H, W] normalised
 * @param inputIds      [N, L] token ids of the captions ([CLS] first)
 * @param attentionMask [N, L] 1 for tokens, 0 for padding
 * @param mlmInputIds   [N, L] the captions after MLM masking ([MASK], random or kept tokens)
 * @param mlmLabels     [N, L] the original id at masked positions, −100 elsewhere (ignored, as in PyTorch)
 * @param negImage      for each caption, the index of its hard negative image in the batch (null: no ITM)
 * @param negText       for each image, the index of its hard negative caption in the batch (null: no ITM)
 */
public record AlbefBatch(INDArray images, INDArray inputIds, INDArray attentionMask, INDArray mlmInputIds,
        INDArray mlmLabels, int[] negImage, int[] negText) {
    public static final int IGNORE = -100;

    public AlbefBatch {
        long n = images.size(0);
        requireShape("input_ids", inputIds, n);
        long length = inputIds.size(1);
        requireShape("attention_mask", attentionMask, n, length);
        requireShape("mlm_input_ids", mlmInputIds, n, length);
        requireShape("mlm_labels", mlmLabels, n, length);
        if ((negImage == null) != (negText == null)) {
            throw new IllegalArgumentException("give both negative index arrays or neither");
        }
        if (negImage != null) {
            requireIndices("negImage", negImage, n);
            requireIndices("negText", negText, n);
        }
    }

    /** The same pairs with the hard negatives chosen for them. */
    public AlbefBatch withNegatives(int[] negImage, int[] negText) {
        return new AlbefBatch(images, inputIds, attentionMask, mlmInputIds, mlmLabels, negImage, negText);
    }

    public int size() {
        return (int) images.size(0);
    }

    public int textLength() {
        return (int) inputIds.size(1);
    }

    /**
     * Every placeholder of {@link AlbefGraph} this batch feeds (the ITM ones only when it has negatives).
     *
     * @param wordEmbeddings the model's word-embedding table [V, H], looked up here (see {@link WordEmbeddings})
     */
    public Map<String, INDArray> placeholders(AlbefConfig config, INDArray wordEmbeddings) {
        int vocab = config.text().vocabSize();
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(AlbefGraph.IMAGE, images.dataType() == DataType.FLOAT ? images : images.castTo(DataType.FLOAT));
        ph.put(AlbefGraph.TEXT_WORDS, WordEmbeddings.lookup(wordEmbeddings, checkIds("input_ids", inputIds, vocab)));
        ph.put(AlbefGraph.ATTENTION_MASK, attentionMask.castTo(DataType.FLOAT));
        ph.put(AlbefGraph.MLM_WORDS, WordEmbeddings.lookup(wordEmbeddings, checkIds("mlm_input_ids", mlmInputIds, vocab)));
        int[] positions = maskedPositions();
        long[] labels = mlmLabels.castTo(DataType.LONG).reshape(-1).toLongVector();
        int[] targets = new int[positions.length];
        for (int j = 0; j < positions.length; j++) {
            long l = labels[positions[j]];
            if (l < 0 || l >= vocab) {
                throw new IllegalArgumentException("mlm_labels: label " + l + " outside [0, " + vocab + ")");
            }
            targets[j] = (int) l;
        }
        ph.put(AlbefGraph.MLM_SELECT, oneHotRows(positions, labels.length));
        ph.put(AlbefGraph.MLM_LABELS, Nd4j.createFromArray(targets));
        ph.put(AlbefGraph.ITC_TARGETS, Nd4j.eye(size()).castTo(DataType.FLOAT));
        if (negImage != null) {
            ph.put(AlbefGraph.NEG_IMAGE, oneHotRows(negImage, size()));
            ph.put(AlbefGraph.NEG_TEXT, oneHotRows(negText, size()));
            ph.put(AlbefGraph.ITM_TARGETS, itmTargets(size()));
        }
        return ph;
    }

    /** Flat positions n·L + l (PyTorch's view(-1) order) of the masked tokens, those with a label. */
    public int[] maskedPositions() {
        long[] labels = mlmLabels.castTo(DataType.LONG).reshape(-1).toLongVector();
        int[] positions = java.util.stream.IntStream.range(0, labels.length).filter(i -> labels[i] != IGNORE).toArray();
        if (positions.length == 0) {
            throw new IllegalArgumentException("mlm_labels: no masked token in the batch (all labels are " + IGNORE + ")");
        }
        return positions;
    }

    /** [K, n] with a single 1 per row, at column {@code index[k]}. */
    static INDArray oneHotRows(int[] index, int n) {
        INDArray m = Nd4j.zeros(DataType.FLOAT, index.length, n);
        for (int k = 0; k < index.length; k++) {
            m.putScalar(k, index[k], 1.0);
        }
        return m;
    }

    /** ITM targets for ALBEF's row order: N positive pairs (class 1), then 2N negative pairs (class 0). */
    static INDArray itmTargets(int n) {
        INDArray t = Nd4j.zeros(DataType.FLOAT, 3L * n, 2);
        for (int i = 0; i < 3 * n; i++) {
            t.putScalar(i, i < n ? 1 : 0, 1.0);
        }
        return t;
    }

    private static INDArray checkIds(String what, INDArray ids, int vocabSize) {
        long min = ids.minNumber().longValue();
        long max = ids.maxNumber().longValue();
        if (min < 0 || max >= vocabSize) {
            throw new IllegalArgumentException(what + ": token ids must be in [0, " + vocabSize + "), found ["
                    + min + ", " + max + "]");
        }
        return ids;
    }

    private static void requireShape(String what, INDArray a, long n, long... rest) {
        boolean ok = a.rank() == 2 && a.size(0) == n && (rest.length == 0 || a.size(1) == rest[0]);
        if (!ok) {
            throw new IllegalArgumentException(what + " has shape " + java.util.Arrays.toString(a.shape())
                    + ", expected [" + n + ", " + (rest.length == 0 ? "L" : rest[0]) + "]");
        }
    }

    private static void requireIndices(String what, int[] idx, long n) {
        if (idx.length != n) {
            throw new IllegalArgumentException(what + " has " + idx.length + " indices for a batch of " + n);
        }
        for (int i : idx) {
            if (i < 0 || i >= n) {
                throw new IllegalArgumentException(what + ": index " + i + " outside the batch [0, " + n + ")");
            }
        }
    }
}
