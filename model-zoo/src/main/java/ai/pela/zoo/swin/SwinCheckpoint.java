package ai.pela.zoo.swin;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one door through which Swin checkpoints come in. The official layout (microsoft/Swin-Transformer, which PELA's
 * Swin code loads) is taken as it is; timm's current layout (timm ≥ 0.9: {@code layers.{s}.downsample} at the start
 * of stage s instead of the end of stage s − 1, the classifier at {@code head.fc}) is renamed to it, the reverse of
 * timm's {@code checkpoint_filter_fn}. The buffers {@code attn.relative_position_index} and {@code attn_mask} are
 * compared with the values the model computes from the configuration ({@link SwinWindows}) — a checkpoint made for
 * another window or
 * resolution fails here naming the key — and then left out: the model computes them. What remains must be exactly
 * {@link SwinLayout#parameterShapes}.
 */
public final class SwinCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(SwinCheckpoint.class);
    private static final Pattern DOWNSAMPLE = Pattern.compile("^layers\\.(\\d+)\\.downsample\\.(.*)$");
    private static final Pattern BLOCK = Pattern.compile("^layers\\.(\\d+)\\.blocks\\.(\\d+)\\.(attn\\.relative_position_index|attn_mask)$");
    private static final Pattern STAGE = Pattern.compile("^layers\\.(\\d+)\\.");

    private SwinCheckpoint() {
    }

    /** The checkpoint in the official layout without buffers, checked against {@code config}. */
    public static StateDict fromPyTorch(StateDict raw, SwinConfig config, String source) {
        StateDict official = isTimmLayout(raw, config) ? fromTimm(raw, source) : raw;
        checkStages(official, config, source);
        StateDict out = new StateDict();
        int buffers = 0;
        for (Map.Entry<String, INDArray> e : official.asMap().entrySet()) {
            Matcher m = BLOCK.matcher(e.getKey());
            if (m.matches()) {
                checkBuffer(e.getKey(), e.getValue(), config, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                        m.group(3), source);
                buffers++;
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        if (buffers > 0) {
            LOG.debug("{}: {} buffers agree with the configuration and are left out", source, buffers);
        }
        out.checkMatches(source, SwinLayout.parameterShapes(config));
        return out;
    }

    /**
     * timm's layout has the classifier under {@code head.fc}, or a downsample in the last stage (the official code
     * never has one there; timm never has one in stage 0).
     */
    static boolean isTimmLayout(StateDict sd, SwinConfig config) {
        String last = SwinLayout.downsamplePrefix(config.numStages() - 1);
        return sd.keys().stream().anyMatch(k -> k.startsWith("head.fc.") || (config.numStages() > 1 && k.startsWith(last)));
    }

    /** timm ≥ 0.9 → official: stage s's leading downsample becomes stage s − 1's trailing one, head.fc → head. */
    static StateDict fromTimm(StateDict sd, String source) {
        StateDict out = new StateDict();
        for (Map.Entry<String, INDArray> e : sd.asMap().entrySet()) {
            String k = e.getKey();
            Matcher m = DOWNSAMPLE.matcher(k);
            if (m.matches()) {
                int s = Integer.parseInt(m.group(1));
                if (s == 0) {
                    throw new PelaException(source + ": '" + k + "': the checkpoint mixes the official layout (a downsample at "
                            + "the end of stage 0) and timm's (head.fc or a downsample in the last stage)");
                }
                k = SwinLayout.downsamplePrefix(s - 1) + m.group(2);
            } else if (k.startsWith("head.fc.")) {
                k = "head." + k.substring("head.fc.".length());
            }
            if (out.contains(k)) {
                throw new PelaException(source + ": '" + e.getKey() + "' maps to '" + k + "', which the checkpoint "
                        + "also holds: it mixes the official and timm's layouts");
            }
            out.put(k, e.getValue());
        }
        LOG.info("{}: converted timm's layout (downsample at stage start, head.fc) to the official one", source);
        return out;
    }

    /** A stage missing or one too many is named as such, before the key-by-key comparison lists every tensor. */
    private static void checkStages(StateDict sd, SwinConfig config, String source) {
        boolean[] seen = new boolean[config.numStages()];
        for (String k : sd.keys()) {
            Matcher m = STAGE.matcher(k);
            if (m.find()) {
                int s = Integer.parseInt(m.group(1));
                if (s >= config.numStages()) {
                    throw new PelaException(source + ": '" + k + "' belongs to stage " + s + ", but the config has "
                            + config.numStages() + " stages (depths " + config.depths() + ")");
                }
                seen[s] = true;
            }
        }
        for (int s = 0; s < seen.length; s++) {
            if (!seen[s]) {
                throw new PelaException(source + ": stage " + s + " is missing: no key starts with 'layers." + s
                        + ".' (the config has " + config.numStages() + " stages, depths " + config.depths() + ")");
            }
        }
    }

    private static void checkBuffer(String key, INDArray stored, SwinConfig c, int s, int j, String kind, String source) {
        if (s >= c.numStages() || j >= c.depths().get(s)) {
            throw new PelaException(source + ": '" + key + "' names a block the config does not have (depths "
                    + c.depths() + ")");
        }
        int w = c.window(s);
        if (kind.equals("attn_mask")) {
            float[] mask = SwinWindows.shiftMask(c.resolution(s), w, c.shift(s, j));
            if (mask == null) {
                throw new PelaException(source + ": '" + key + "' is a shift mask, but with this config's window and "
                        + "resolution the block does not shift (shape " + Arrays.toString(stored.shape()) + ")");
            }
            checkMask(key, stored, mask, w * w, source);
        } else {
            checkIndex(key, stored, SwinWindows.relativePositionIndex(w), w * w, source);
        }
    }

    private static void checkIndex(String key, INDArray stored, int[] expected, int n, String source) {
        checkShape(key, stored, new long[] {n, n}, source);
        if (!stored.dataType().isIntType()) {
            throw new PelaException(source + ": '" + key + "' must be an integer tensor (int64), got " + stored.dataType());
        }
        long[] flat = stored.castTo(DataType.LONG).dup('c').data().asLong(); // one copy, not n² element reads
        for (int i = 0; i < flat.length; i++) {
            if (flat[i] != expected[i]) {
                throw new PelaException(source + ": '" + key + "' differs from the index the config's window gives at ["
                        + i / n + ", " + i % n + "]: " + flat[i] + " in the checkpoint, " + expected[i] + " computed");
            }
        }
    }

    /** {@code expected} is [windows, n, n] flattened. */
    private static void checkMask(String key, INDArray stored, float[] expected, int n, String source) {
        checkShape(key, stored, new long[] {expected.length / ((long) n * n), n, n}, source);
        float[] flat = stored.castTo(DataType.FLOAT).dup('c').data().asFloat();
        for (int i = 0; i < flat.length; i++) {
            if (flat[i] != expected[i]) {
                throw new PelaException(source + ": '" + key + "' differs from the shift mask the config gives at ["
                        + i / (n * n) + ", " + i / n % n + ", " + i % n + "]: " + flat[i] + " in the checkpoint, "
                        + expected[i] + " computed");
            }
        }
    }

    private static void checkShape(String key, INDArray stored, long[] expected, String source) {
        if (!Arrays.equals(stored.shape(), expected)) {
            throw new PelaException(source + ": '" + key + "' has shape " + Arrays.toString(stored.shape())
                    + " but the config (window and resolution) gives " + Arrays.toString(expected));
        }
    }
}
