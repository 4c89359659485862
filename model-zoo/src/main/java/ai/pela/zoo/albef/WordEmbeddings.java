package ai.pela.zoo.albef;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterAdd;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The word-embedding lookup, done on the host rather than in the graph: SameDiff 1.0.0-M2.1 differentiates
 * {@code gather} with a while-loop that fails as soon as a graph holds two of them ("Unable to replace samediff
 * namespace") and would run one iteration per token anyway. So the graph takes the looked-up rows as a
 * placeholder, SameDiff differentiates with respect to that placeholder, and {@link #accumulate} adds the rows'
 * gradients into the table's — skipping the padding token, exactly as {@code nn.Embedding(padding_idx=pad)} does.
 */
final class WordEmbeddings {
    private WordEmbeddings() {
    }

    /** Rows of {@code table} [V, H] for {@code ids} [N, L]: [N, L, H]. */
    static INDArray lookup(INDArray table, INDArray ids) {
        int[] flat = ids.castTo(DataType.INT).reshape(-1).toIntVector();
        return Nd4j.pullRows(table, 1, flat).reshape(ids.size(0), ids.size(1), table.size(1));
    }

    /** {@code gradTable[ids[i]] += gradRows[i]} for every token that is not padding. */
    static void accumulate(INDArray gradTable, INDArray gradRows, INDArray ids, int padTokenId) {
        int[] flat = ids.castTo(DataType.INT).reshape(-1).toIntVector();
        INDArray rows = gradRows.reshape(flat.length, gradTable.size(1));
        int kept = 0;
        for (int id : flat) {
            kept += id == padTokenId ? 0 : 1;
        }
        if (kept == 0) {
            return;
        }
        int[] index = new int[kept];
        int[] tokens = new int[kept];
        for (int i = 0, j = 0; i < flat.length; i++) {
            if (flat[i] != padTokenId) {
                index[j] = i;
                tokens[j++] = flat[i];
            }
        }
        INDArray updates = kept == flat.length ? rows : Nd4j.pullRows(rows, 1, index);
        // scatter_add sums repeated ids; it writes a new array, not into its input
        INDArray[] summed = Nd4j.exec(new ScatterAdd(gradTable, Nd4j.createFromArray(tokens), updates));
        gradTable.assign(summed[0]);
    }
}
