package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Vit;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.InputMoments;
import ai.pela.zoo.text.TokenBatch;
import ai.pela.zoo.vit.VitLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The input statistics of a dense ALBEF teacher's Linears for activation-aware SVD ({@link InputMoments}), fed one
 * batch of image-caption pairs at a time. Two forwards per batch, because no single one shows every Linear's
 * true input:
 * <ul>
 * <li>the image encoder's Linears run on the ViT engine with the input observer (as for a ViT teacher): ALBEF's
 * SameDiff graph folds each LayerNorm's affine into the Linear after it, so its qkv and fc1 inputs never exist
 * there; their names get the {@value AlbefLayout#VISUAL} prefix back;</li>
 * <li>every other Linear's input comes from the SameDiff graph ({@link AlbefModel#linearInputs}) on the clean
 * captions: the MLM pass is fed the unmasked captions and "predicts" every real token, so the text and fusion
 * layers see the captions with their images as at inference, and the MLM head sees every real token. Padding rows
 * are left out (they are not data); the hard negatives of the ITM head are the next pair's image and caption.</li>
 * </ul>
 * Deterministic: the same pairs give the same statistics.
 */
public final class AlbefCalibration {
    private final AlbefModel model;
    private final Vit vision;
    private final Map<Integer, Vit.Activations> visionBuffers = new HashMap<>();
    private final InputMoments moments = new InputMoments();

    /**
     * @param teacher    a dense ALBEF's checkpoint matching {@link AlbefLayout#parameterShapes}
     * @param textLength the caption length L of every batch (captions padded to it)
     */
    public AlbefCalibration(AlbefConfig teacherConfig, StateDict teacher, int textLength) {
        if (teacherConfig.lowrank() != null) {
            throw new PelaException("calibrate a dense ALBEF teacher: this config has a lowrank block");
        }
        this.model = AlbefModel.create(teacherConfig, teacher, textLength, "the calibrated ALBEF teacher");
        this.vision = new Vit(teacherConfig.visionConfig(),
                ParamSet.of(VitLayout.parameterShapes(teacherConfig.visionConfig()), visionWeights(teacher), false),
                Kernels.forBackend());
        vision.observeLinearInputs((linear, x) -> moments.observe(AlbefLayout.VISUAL + linear, x));
    }

    /**
     * Adds one batch: {@code images} [N, C, H, W] normalised as for training, {@code text} their N captions
     * tokenised and padded to the text length.
     */
    public void observe(INDArray images, TokenBatch text) {
        int n = (int) images.size(0);
        if (text.batch() != n) {
            throw new IllegalArgumentException(text.batch() + " captions for " + n + " images");
        }
        INDArray floatImages = images.castTo(DataType.FLOAT);
        vision.forward(visionBuffers.computeIfAbsent(n, vision::activations), floatImages, null);
        int[] realRows = IntStream.range(0, text.mask().length).filter(i -> text.mask()[i] == 1).toArray();
        model.linearInputs(cleanBatch(floatImages, text)).forEach((linear, x) -> {
            if (takesCaptionTokens(linear)) {
                requireRows(linear, x, text.ids().length);
                moments.observe(linear, x.getRows(realRows));
            } else {
                moments.observe(linear, x);
            }
        });
        model.forgetLastRun();
    }

    /** Each Linear's input RMS per channel over everything observed so far ({@link InputMoments#scales}). */
    public Map<String, INDArray> scales() {
        return moments.scales();
    }

    /**
     * The pairs as a graph batch without masking: MLM input = the captions, a label at every real token (so the
     * MLM head sees them all, and none of the padding); ITM negatives: each image with the next pair's caption.
     */
    private static AlbefBatch cleanBatch(INDArray images, TokenBatch text) {
        int[] labels = new int[text.ids().length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = text.mask()[i] == 1 ? text.ids()[i] : AlbefBatch.IGNORE;
        }
        int n = text.batch();
        int[] next = IntStream.range(0, n).map(i -> (i + 1) % n).toArray();
        INDArray ids = text.idsArray();
        return new AlbefBatch(images, ids, text.maskArray(DataType.INT32), ids,
                Nd4j.createFromArray(labels).reshape(n, text.length()), next, next);
    }

    /**
     * Whether a Linear's input rows are the caption tokens (padding included): the text and fusion layers'
     * Linears, except cross-attention keys and values, whose rows are image tokens.
     */
    static boolean takesCaptionTokens(String linear) {
        return linear.startsWith(AlbefLayout.BERT) && !linear.endsWith("crossattention.self.key")
                && !linear.endsWith("crossattention.self.value");
    }

    private static void requireRows(String linear, INDArray x, int rows) {
        if (x.rank() != 2 || x.size(0) != rows) {
            throw new IllegalStateException(linear + ": input " + java.util.Arrays.toString(x.shape())
                    + ", expected one row per caption token (" + rows + ")");
        }
    }

    /** The image encoder's tensors under their timm names, as the ViT engine takes them. */
    private static StateDict visionWeights(StateDict weights) {
        StateDict v = new StateDict();
        weights.asMap().forEach((k, a) -> {
            if (k.startsWith(AlbefLayout.VISUAL)) {
                v.put(k.substring(AlbefLayout.VISUAL.length()), a);
            }
        });
        return v;
    }
}
