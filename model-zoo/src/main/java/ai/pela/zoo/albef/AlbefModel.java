package ai.pela.zoo.albef;

import ai.pela.zoo.io.StateDict;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ALBEF for inference: weights are graph constants, so nothing is ever differentiated. The frozen teacher of
 * PELA (its hidden states feed L_fd) and the model behind evaluation. The temperature is clamped to
 * [{@value AlbefConfig#TEMP_MIN}, {@value AlbefConfig#TEMP_MAX}] once at load, as ALBEF clamps it before each forward.
 */
public final class AlbefModel {
    private final AlbefConfig config;
    private final SameDiff sd;
    private final AlbefGraph.Handles handles;
    private final int textLength;
    private final INDArray wordEmbeddings;

    private AlbefModel(AlbefConfig config, SameDiff sd, AlbefGraph.Handles handles, int textLength,
            INDArray wordEmbeddings) {
        this.config = config;
        this.sd = sd;
        this.handles = handles;
        this.textLength = textLength;
        this.wordEmbeddings = wordEmbeddings;
    }

    /**
     * @param weights    in this project's layout (see {@link AlbefCheckpoint#fromPyTorch} for a PyTorch state dict)
     * @param textLength the caption length L of every batch
     * @param source     the checkpoint's file name, for error messages
     */
    public static AlbefModel create(AlbefConfig config, StateDict weights, int textLength, String source) {
        weights.checkMatches(source, AlbefLayout.parameterShapes(config));
        StateDict w = new StateDict(weights.asMap());
        w.put(AlbefLayout.TEMP, clampTemperature(weights.get(AlbefLayout.TEMP).dup()));
        SameDiff sd = SameDiff.create();
        INDArray words = weights.get(AlbefLayout.WORD_EMBEDDINGS).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        return new AlbefModel(config, sd, AlbefGraph.build(sd, config, w, false, textLength), textLength, words);
    }

    /** Clamps the temperature in place, as ALBEF does under no_grad at the start of every forward. */
    public static INDArray clampTemperature(INDArray temp) {
        double t = temp.getDouble(0);
        return temp.assign(Math.max(AlbefConfig.TEMP_MIN, Math.min(AlbefConfig.TEMP_MAX, t)));
    }

    public AlbefConfig config() {
        return config;
    }

    public int textLength() {
        return textLength;
    }

    public AlbefGraph.Handles handles() {
        return handles;
    }

    /** Named outputs of the graph ({@link AlbefGraph} constants, hidden-state names) for one batch. */
    public Map<String, INDArray> output(AlbefBatch batch, List<String> names) {
        if (batch.textLength() != textLength) {
            throw new IllegalArgumentException("batch captions have length " + batch.textLength() + ", the model was built for "
                    + textLength);
        }
        return sd.output(batch.placeholders(config, wordEmbeddings), names);
    }

    /**
     * The input rows [M, d_in] of each Linear outside the image encoder for one batch, by the Linear's name; which
     * pass each comes from: {@link AlbefGraph.Handles}. The batch needs hard negatives (the ITM head's input is
     * that of the ITM pairs).
     */
    public Map<String, INDArray> linearInputs(AlbefBatch batch) {
        Map<String, String> variables = handles.linearInputs();
        Map<String, INDArray> byVariable = output(batch, List.copyOf(new java.util.LinkedHashSet<>(variables.values())));
        Map<String, INDArray> out = new java.util.LinkedHashMap<>();
        variables.forEach((linear, variable) -> out.put(linear, byVariable.get(variable)));
        return out;
    }

    /** The image-to-text similarity matrix [N, N] (for hard negatives). */
    public INDArray similarity(AlbefBatch batch) {
        return output(batch, List.of(AlbefGraph.SIM_I2T)).get(AlbefGraph.SIM_I2T);
    }

    /**
     * Lets go of the arrays of the last forward pass ({@link ai.pela.zoo.train.NativeMemory#forget}); only for a model
     * that no other thread is running, such as a trainer's teacher.
     */
    public void forgetLastRun() {
        ai.pela.zoo.train.NativeMemory.forget(sd);
    }
}
