package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.TokenBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A BERT text encoder alone (ALBEF's text layers through {@link BertGraph}, keys of {@link BertTextLayout}) with a
 * sentence-transformers head: the mean of the last hidden states over the real tokens, L2-normalised. Hidden
 * states are exposed as ALBEF's PELA names them ({@code text_out.0} = embedding output, {@code text_out.i} = layer
 * i), so L_fd pairs a student's and a teacher's by name. Word embeddings are looked up on the host
 * ({@link WordEmbeddings}); every graph has one text length, shorter texts are padded.
 */
public final class TextEncoder {
    public static final String WORDS = "text.words";
    public static final String ATTENTION_MASK = "text.attention_mask";
    public static final String EMBEDDING = "sentence_embedding";
    public static final String HIDDEN = "text_out";

    /**
     * The hidden states [N, L, H] (embedding output first), the sentence embedding [N, H], the parameters, and each
     * Linear's input variable by the Linear's name.
     */
    public record Handles(List<SDVariable> hiddenStates, SDVariable embedding, List<String> parameterNames,
            Map<String, String> linearInputs) {
        public List<String> hiddenStateNames() {
            return hiddenStates.stream().map(SDVariable::name).toList();
        }
    }

    private TextEncoder() {
    }

    /**
     * Adds the encoder to {@code sd}.
     *
     * @param lowrank   the decomposed Linears (a PELA student), or null for a dense encoder
     * @param trainable true: parameters are variables; false: constants (a frozen teacher, inference)
     */
    public static Handles build(SameDiff sd, BertConfig c, LowRankSpec lowrank, StateDict weights, boolean trainable,
            int length) {
        if (length < 2 || length > c.maxPositionEmbeddings()) {
            throw new PelaException("text length " + length + " outside [2, max_position_embeddings = "
                    + c.maxPositionEmbeddings() + "]");
        }
        GraphParams p = new GraphParams(sd, weights, trainable, lowrank);
        BertGraph bert = new BertGraph(sd, p, c, length);
        SDVariable words = sd.placeHolder(WORDS, DataType.FLOAT, -1, length, c.hiddenSize());
        SDVariable maskIn = sd.placeHolder(ATTENTION_MASK, DataType.FLOAT, -1, length);
        SDVariable x = bert.embed(words);
        List<SDVariable> hidden = new ArrayList<>();
        hidden.add(sd.reshape(HIDDEN + ".0", x, -1, length, c.hiddenSize()));
        bert.layers(x, bert.extendedMask(maskIn), null, 0, c.textLayers(), hidden, HIDDEN);
        SDVariable embedding = meanPoolNormalized(sd, hidden.get(hidden.size() - 1), maskIn, length);
        return new Handles(List.copyOf(hidden), embedding, p.names(), p.linearInputs());
    }

    /** sentence-transformers' Pooling(mean) then Normalize: Σ_t m_t·x_t / Σ_t m_t, scaled to unit length. */
    private static SDVariable meanPoolNormalized(SameDiff sd, SDVariable last, SDVariable mask, int length) {
        SDVariable m = sd.reshape(mask, -1, length, 1);
        SDVariable pooled = last.mul(m).sum(1).div(mask.sum(true, 1));
        return pooled.div(sd.math().sqrt(pooled.mul(pooled).sum(true, 1))).rename(EMBEDDING);
    }

    /** The placeholders for a batch: the looked-up word rows and the float attention mask. */
    static Map<String, INDArray> placeholders(TokenBatch batch, INDArray wordTable, int length) {
        if (batch.length() != length) {
            throw new IllegalArgumentException("batch texts have length " + batch.length()
                    + ", the encoder was built for " + length);
        }
        Map<String, INDArray> ph = new HashMap<>();
        ph.put(WORDS, WordEmbeddings.lookup(wordTable, batch.idsArray()));
        ph.put(ATTENTION_MASK, batch.maskArray(DataType.FLOAT));
        return ph;
    }
}
