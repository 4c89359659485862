package ai.pela.zoo.text;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Token ids and attention mask of a batch of texts, both [batch, length] in row-major order: {@code ids[b·length+t]}.
 * The mask is 1 on real tokens ([CLS], pieces, [SEP]) and 0 on padding.
 */
public record TokenBatch(int batch, int length, int[] ids, int[] mask) {
    public TokenBatch {
        if (ids.length != batch * length || mask.length != ids.length) {
            throw new IllegalArgumentException("ids " + ids.length + " and mask " + mask.length + " for a batch of "
                    + batch + " × " + length);
        }
    }

    public int id(int b, int t) {
        return ids[b * length + t];
    }

    /** Row {@code b} of the ids, padding included. */
    public int[] row(int b) {
        return Arrays.copyOfRange(ids, b * length, (b + 1) * length);
    }

    /** The number of real tokens of row {@code b}. */
    public int realLength(int b) {
        int n = 0;
        for (int t = 0; t < length; t++) {
            n += mask[b * length + t];
        }
        return n;
    }

    /** The ids as an INT32 array [batch, length], the index input of an embedding gather. */
    public INDArray idsArray() {
        return Nd4j.createFromArray(ids).reshape(batch, length);
    }

    /** The mask as [batch, length] of the given type (float for additive attention masks). */
    public INDArray maskArray(DataType type) {
        return Nd4j.createFromArray(mask).reshape(batch, length).castTo(type);
    }
}
