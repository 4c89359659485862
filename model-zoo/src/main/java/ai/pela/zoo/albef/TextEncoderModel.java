package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.TokenBatch;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A {@link TextEncoder} for inference (weights are constants): sentence embeddings and hidden states. */
public final class TextEncoderModel {
    private final SameDiff sd;
    private final TextEncoder.Handles handles;
    private final INDArray wordTable;
    private final int length;

    private TextEncoderModel(SameDiff sd, TextEncoder.Handles handles, INDArray wordTable, int length) {
        this.sd = sd;
        this.handles = handles;
        this.wordTable = wordTable;
        this.length = length;
    }

    /** @param lowrank the decomposed Linears of a student, or null for a dense encoder */
    public static TextEncoderModel create(BertConfig config, LowRankSpec lowrank, StateDict weights, int length,
            String source) {
        weights.checkMatches(source, BertTextLayout.parameterShapes(config, lowrank));
        SameDiff sd = SameDiff.create();
        TextEncoder.Handles h = TextEncoder.build(sd, config, lowrank, weights, false, length);
        return new TextEncoderModel(sd, h, weights.get(AlbefLayout.WORD_EMBEDDINGS).castTo(DataType.FLOAT), length);
    }

    public int length() {
        return length;
    }

    public TextEncoder.Handles handles() {
        return handles;
    }

    /** L2-normalised mean-pooled embeddings [N, H] of texts tokenised to this encoder's length. */
    public INDArray embed(List<String> texts, BertTokenizer tokenizer) {
        return embed(tokenizer.encodeBatch(texts, length, BertTokenizer.Padding.MAX_LENGTH));
    }

    public INDArray embed(TokenBatch batch) {
        return outputs(batch, List.of(TextEncoder.EMBEDDING)).get(TextEncoder.EMBEDDING);
    }

    /** Named outputs ({@link TextEncoder#EMBEDDING}, hidden-state names) for a batch of this encoder's length. */
    public Map<String, INDArray> outputs(TokenBatch batch, List<String> names) {
        return sd.output(TextEncoder.placeholders(batch, wordTable, length), names);
    }

    /** Each Linear's input rows [N·L, d_in] for a batch (padding rows included), by the Linear's name. */
    public Map<String, INDArray> linearInputs(TokenBatch batch) {
        Map<String, INDArray> byVariable = outputs(batch, List.copyOf(handles.linearInputs().values()));
        Map<String, INDArray> out = new java.util.LinkedHashMap<>();
        handles.linearInputs().forEach((linear, variable) -> out.put(linear, byVariable.get(variable)));
        return out;
    }

    /**
     * Lets go of the arrays of the last forward pass ({@link ai.pela.zoo.train.NativeMemory#forget}); only for a model
     * that no other thread is running, such as a trainer's teacher.
     */
    public void forgetLastRun() {
        ai.pela.zoo.train.NativeMemory.forget(sd);
    }
}
