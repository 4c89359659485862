package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A ViT backbone with a dense head ({@link UperNet} or {@link Fcos}): the graph, its checkpoint layout, and an
 * inference model whose weights are constants. The checkpoint holds the backbone under {@code backbone.} and the
 * head under mmseg's / mmdet's names.
 */
public final class DenseModel {
    public static final String INPUT = "input";
    /** UperNet's output: logits [N, classes, imgSize, imgSize]. */
    public static final String SEG_LOGITS = "seg.logits";

    /** What a built graph offers: its input and named outputs (seg logits, or FCOS's three flat outputs). */
    record Built(SDVariable input, Fmap segLogits, Fcos.Outputs detection) {
    }

    private final ModelConfig backbone;
    private final HeadConfig head;
    private final SameDiff sd;
    private final List<String> outputs;

    private DenseModel(ModelConfig backbone, HeadConfig head, SameDiff sd, List<String> outputs) {
        this.backbone = backbone;
        this.head = head;
        this.sd = sd;
        this.outputs = outputs;
    }

    /** Every checkpoint key of the dense model with its shape: backbone first, then the head in build order. */
    public static Map<String, long[]> parameterShapes(ModelConfig backbone, HeadConfig head) {
        Map<String, long[]> out = new LinkedHashMap<>(Backbone.parameterShapes(backbone, head));
        SameDiff scratch = SameDiff.create();
        Params layout = new Params(scratch, null, false);
        DenseOps ops = new DenseOps(scratch, layout);
        int d = backbone.embedDim();
        int g = head.imgSize() / backbone.patchSize();
        List<Fmap> maps = head.outIndices().stream()
                .map(i -> new Fmap(scratch.placeHolder("f" + i, DataType.FLOAT, -1, d, g, g), d, g, g)).toList();
        buildHead(ops, maps, head);
        out.putAll(layout.shapes());
        return out;
    }

    /**
     * Adds the whole model to {@code sd} on the placeholder {@value #INPUT} [N, 3, imgSize, imgSize].
     *
     * @param weights a checkpoint matching {@link #parameterShapes} (check it first)
     */
    static Built build(SameDiff sd, ModelConfig backbone, HeadConfig head, StateDict weights, boolean trainable) {
        head.checkBackbone(backbone, "head config");
        Params params = new Params(sd, weights, trainable);
        DenseOps ops = new DenseOps(sd, params);
        SDVariable input = sd.placeHolder(INPUT, DataType.FLOAT, -1, backbone.inChans(), head.imgSize(), head.imgSize());
        List<Fmap> maps = Backbone.features(ops, backbone, head, weights, trainable, input);
        Object out = buildHead(ops, maps, head);
        if (out instanceof Fmap logits) {
            return new Built(input, new Fmap(sd.identity(SEG_LOGITS, logits.v()), logits.c(), logits.h(), logits.w()), null);
        }
        return new Built(input, null, (Fcos.Outputs) out);
    }

    private static Object buildHead(DenseOps ops, List<Fmap> maps, HeadConfig head) {
        if (head instanceof UperNetConfig u) {
            return UperNet.build(ops, maps, u);
        }
        return Fcos.build(ops, maps.get(maps.size() - 1), (FcosConfig) head);
    }

    /**
     * An inference model, after checking that the checkpoint has exactly the keys and shapes the configs need.
     *
     * @param source the checkpoint's file name, for error messages
     */
    public static DenseModel create(ModelConfig backbone, HeadConfig head, StateDict weights, String source) {
        head.checkBackbone(backbone, source);
        weights.checkMatches(source, parameterShapes(backbone, head));
        SameDiff sd = SameDiff.create();
        Built b = build(sd, backbone, head, weights, false);
        List<String> outs = b.segLogits() != null ? List.of(SEG_LOGITS) : List.of(Fcos.CLS, Fcos.REG, Fcos.CTR);
        return new DenseModel(backbone, head, sd, outs);
    }

    public ModelConfig backbone() {
        return backbone;
    }

    public HeadConfig head() {
        return head;
    }

    /**
     * The raw outputs for a normalised batch [N, 3, imgSize, imgSize]: {@value #SEG_LOGITS} for UperNet;
     * {@code fcos.cls}, {@code fcos.reg} (in strides), {@code fcos.ctr} for FCOS, flattened as {@link Fcos} says.
     */
    public Map<String, INDArray> forward(INDArray images) {
        long[] s = images.shape();
        if (s.length != 4 || s[1] != backbone.inChans() || s[2] != head.imgSize() || s[3] != head.imgSize()) {
            throw new PelaException("input has shape " + java.util.Arrays.toString(s) + " but the dense model needs [N, "
                    + backbone.inChans() + ", " + head.imgSize() + ", " + head.imgSize() + "]");
        }
        INDArray x = images.dataType() == DataType.FLOAT ? images : images.castTo(DataType.FLOAT);
        return sd.output(Map.of(INPUT, x), outputs);
    }
}
