package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an ALBEF state dict as PyTorch saves it (e.g. {@code ALBEF_4M.pth}'s {@code "model"} converted to
 * safetensors) into this project's layout: the momentum encoders, the feature queues and the {@code position_ids}
 * buffers are dropped (this model trains without momentum distillation), and the tied MLM decoder's aliases
 * ({@code cls.predictions.decoder.weight/bias}, the same tensors as the word embeddings and
 * {@code cls.predictions.bias}) are checked and folded away. What remains must match {@link AlbefLayout}.
 */
public final class AlbefCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(AlbefCheckpoint.class);
    private static final List<String> MOMENTUM = List.of("visual_encoder_m.", "text_encoder_m.", "vision_proj_m.",
            "text_proj_m.");
    private static final List<String> BUFFERS = List.of("image_queue", "text_queue", "idx_queue", "queue_ptr");
    private static final String DECODER_WEIGHT = AlbefLayout.PREDICTIONS + "decoder.weight";
    private static final String DECODER_BIAS = AlbefLayout.PREDICTIONS + "decoder.bias";

    private AlbefCheckpoint() {
    }

    public static StateDict fromPyTorch(StateDict raw, AlbefConfig config, String source) {
        checkTied(raw, DECODER_WEIGHT, AlbefLayout.WORD_EMBEDDINGS, source);
        checkTied(raw, DECODER_BIAS, AlbefLayout.MLM_BIAS, source);
        StateDict out = new StateDict();
        int dropped = 0;
        for (Map.Entry<String, INDArray> e : raw.asMap().entrySet()) {
            String k = e.getKey();
            if (isDropped(k)) {
                dropped++;
            } else if (k.equals(AlbefLayout.TEMP) && e.getValue().length() == 1) {
                out.put(k, e.getValue().reshape(new long[0])); // a 0-d tensor; some exports make it [1]
            } else {
                out.put(k, e.getValue());
            }
        }
        if (dropped > 0) {
            LOG.info("{}: left out {} tensors (tied decoder aliases, momentum encoders, queues, buffers)", source, dropped);
        }
        out.checkMatches(source, AlbefLayout.parameterShapes(config));
        return out;
    }

    private static boolean isDropped(String key) {
        return MOMENTUM.stream().anyMatch(key::startsWith) || BUFFERS.contains(key) || key.endsWith(".position_ids")
                || key.equals(DECODER_WEIGHT) || key.equals(DECODER_BIAS);
    }

    private static void checkTied(StateDict raw, String alias, String tiedTo, String source) {
        if (raw.contains(alias) && raw.contains(tiedTo) && !raw.get(alias).equals(raw.get(tiedTo))) {
            throw new PelaException(source + ": '" + alias + "' differs from '" + tiedTo + "'; ALBEF ties them and so "
                    + "does this model, an untied MLM decoder is not supported");
        }
    }
}
