package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.Onnx;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.TokenBatch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * all-MiniLM-L6-v2 loaded from the bundled ONNX file into the SameDiff text encoder, against embeddings of the
 * ONNX graph itself executed in PyTorch (model-zoo/src/test/python/make_minilm_fixture.py, see
 * resources/minilm/README.md), on sentences tokenised by Hugging Face tokenizers.
 */
class MiniLmTest {
    private static StateDict weights;
    private static JsonNode sentences;

    @BeforeAll
    static void load() throws IOException {
        weights = MiniLm.load();
        sentences = new ObjectMapper().readTree(Fixtures.resource("/minilm/reference.json").toFile()).get("sentences");
    }

    @Test
    void everyTensorIsNamedAndShapedLikeBert() {
        // embeddings 11,918,592 + six layers of 1,774,464 (HF's 22.7 M also counts the pooler, which
        // sentence-transformers does not use and the export leaves out)
        assertThat(weights.numParameters()).isEqualTo(11_918_592L + 6 * 1_774_464L);
        assertThat(weights.get("text_encoder.bert.encoder.layer.5.intermediate.dense.weight").shape())
                .containsExactly(1536, 384);
        assertThat(weights.keys()).noneMatch(k -> k.contains("onnx::") || k.endsWith("position_ids"));
    }

    @Test
    void embeddingsMatchTheOnnxGraphRunInPyTorch() {
        int length = 0;
        List<int[]> ids = new ArrayList<>();
        for (JsonNode s : sentences) {
            int[] row = new int[s.get("ids").size()];
            Arrays.setAll(row, i -> s.get("ids").get(i).asInt());
            ids.add(row);
            length = Math.max(length, row.length);
        }
        // one padded batch: the references were computed one sentence at a time, so padding must not matter
        TokenBatch batch = padded(ids, length);
        TextEncoderModel model = TextEncoderModel.create(MiniLm.config(), null, weights, length, MiniLm.RESOURCE);
        String last = TextEncoder.HIDDEN + "." + MiniLm.config().numHiddenLayers();
        Map<String, INDArray> out = model.outputs(batch, List.of(TextEncoder.EMBEDDING, last));
        for (int b = 0; b < ids.size(); b++) {
            JsonNode ref = sentences.get(b);
            float[] e = out.get(TextEncoder.EMBEDDING).getRow(b).toFloatVector();
            assertClose(e, ref.get("embedding"), 2e-5, ref.get("text").asText());
            INDArray hidden = out.get(last);
            int lastToken = ids.get(b).length - 1;
            for (int c = 0; c < 16; c++) {
                assertThat(hidden.getDouble(b, 0, c)).isCloseTo(ref.get("first_token").get(c).asDouble(), within(2e-4));
                assertThat(hidden.getDouble(b, lastToken, c))
                        .isCloseTo(ref.get("last_token").get(c).asDouble(), within(2e-4));
            }
        }
    }

    @Test
    void theProjectTokenizerGivesTheReferenceIds() {
        BertTokenizer tok = BertTokenizer.bertBaseUncased();
        for (JsonNode s : sentences) {
            int[] expected = new int[s.get("ids").size()];
            Arrays.setAll(expected, i -> s.get("ids").get(i).asInt());
            assertThat(tok.encode(s.get("text").asText(), 512)).as(s.get("text").asText()).containsExactly(expected);
        }
    }

    @Test
    void truncatedOrForeignFilesFailNamingTheFile() throws IOException {
        byte[] head;
        try (InputStream in = MiniLm.class.getResourceAsStream(MiniLm.RESOURCE)) {
            head = in.readNBytes(200_000);
        }
        assertThatThrownBy(() -> Onnx.read(new ByteArrayInputStream(head), "cut.onnx"))
                .isInstanceOf(PelaException.class).hasMessageContaining("cut.onnx").hasMessageContaining("corrupt");
        byte[] text = "{\"not\": \"onnx\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Onnx.read(new ByteArrayInputStream(text), "config.json"))
                .isInstanceOf(PelaException.class).hasMessageStartingWith("config.json: ");
    }

    private static TokenBatch padded(List<int[]> rows, int length) {
        int[] ids = new int[rows.size() * length];
        int[] mask = new int[ids.length];
        for (int b = 0; b < rows.size(); b++) {
            System.arraycopy(rows.get(b), 0, ids, b * length, rows.get(b).length);
            Arrays.fill(mask, b * length, b * length + rows.get(b).length, 1);
        }
        return new TokenBatch(rows.size(), length, ids, mask);
    }

    private static void assertClose(float[] actual, JsonNode expected, double tol, String what) {
        assertThat(actual).hasSize(expected.size());
        double worst = 0;
        for (int i = 0; i < actual.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected.get(i).asDouble()));
        }
        assertThat(worst).as("max |Δ| of the embedding of '%s'", what).isLessThan(tol);
    }
}
