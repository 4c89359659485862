package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.eval.RetrievalMetrics;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.albef.AlbefInit;
import ai.pela.zoo.albef.AlbefPresets;
import ai.pela.zoo.albef.AlbefRetrievalModel;
import ai.pela.zoo.data.Idx;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.testing.Fixtures;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.CaptionText;
import ai.pela.zoo.text.TokenBatch;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * evaluate --task coco-retrieval end to end through the command line on local Spark (2 workers): a forged retrieval
 * set in ALBEF's coco_test.json format (10 PNG canvases of two real Fashion-MNIST items, 2 captions each saying
 * which garment is where) and a seeded random albef_tiny. The job's numbers must equal a direct computation in
 * this JVM: every feature and every ITM score of the dense matrices ALBEF builds, ranked by
 * {@link RetrievalMetrics#fromScores} — so the distributed features, top-k selection, pair grouping and sparse
 * re-ranking are checked against the plain definition.
 */
class RetrievalEvaluateTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> NAMES = List.of("t-shirt", "pair of trousers", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot");
    private static final int IMAGES = 10;
    private static final int K = 3;

    @TempDir
    static Path dir;
    static Path annotations;
    static Path modelDir;
    static List<String> imageFiles = new ArrayList<>();
    static List<String> texts = new ArrayList<>();

    @BeforeAll
    static void forge() throws Exception {
        Idx.UByteArray items = Idx.read(Fixtures.resource("/fashion-mnist/train256-images-idx3-ubyte.gz"));
        Idx.UByteArray labels = Idx.read(Fixtures.resource("/fashion-mnist/train256-labels-idx1-ubyte.gz"));
        ArrayNode entries = JSON.createArrayNode();
        for (int i = 0; i < IMAGES; i++) {
            int left = 2 * i;
            int right = 2 * i + 1;
            String file = "images/scene_" + i + ".png";
            Files.createDirectories(dir.resolve("images"));
            ImageIO.write(canvas(items, left, right), "png", dir.resolve(file).toFile());
            String a = NAMES.get(labels.unsigned(left));
            String b = NAMES.get(labels.unsigned(right));
            List<String> captions = List.of("a " + a + " to the left of a " + b, "A " + b + " right of a " + a + ".");
            entries.addObject().put("image", file).set("caption", JSON.valueToTree(captions));
            imageFiles.add(file);
            texts.addAll(captions);
        }
        annotations = dir.resolve("coco_test.json");
        Files.writeString(annotations, entries.toPrettyString());
        modelDir = dir.resolve("albef");
        Files.createDirectories(modelDir);
        AlbefConfig config = AlbefPresets.get("albef_tiny");
        AlbefConfigJson.write(config, modelDir.resolve("config.json"));
        Safetensors.write(AlbefInit.random(config, 11), modelDir.resolve("model.safetensors"));
    }

    /** Items {@code left} and {@code right} side by side on a 56×28 RGB canvas, tinted differently. */
    private static BufferedImage canvas(Idx.UByteArray items, int left, int right) {
        BufferedImage img = new BufferedImage(56, 28, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int l = items.unsigned((long) left * 784 + y * 28 + x);
                int r = items.unsigned((long) right * 784 + y * 28 + x);
                img.setRGB(x, y, (l << 16) | ((l / 2) << 8) | (l / 3));
                img.setRGB(28 + x, y, ((r / 3) << 16) | ((r / 2) << 8) | r);
            }
        }
        return img;
    }

    private static JsonNode evaluate(String name, int k) throws Exception {
        Path metrics = dir.resolve(name + "/metrics.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PelaCli.execute(new PrintWriter(out), new PrintWriter(err), "evaluate", "--task", "coco-retrieval",
                "--model", modelDir.toString(), "--out", metrics.toString(),
                "--set", "retrieval.annotations=\"" + annotations + "\"", "--set", "retrieval.k-test=" + k,
                "--set", "retrieval.batch-size=4", "--set", "train.workers=2");
        assertThat(code).as("exit code; stderr: %s", err).isZero();
        assertThat(Files.readString(metrics.resolveSibling("report.html"))).contains("COCO retrieval", "txt_r1");
        return JSON.readTree(metrics.toFile());
    }

    @Test
    void itcWithItmReRankingEqualsTheDenseComputation() throws Exception {
        JsonNode m = evaluate("itm", K);
        RetrievalMetrics expected = direct(K);
        System.out.println("coco-retrieval k=" + K + ": " + m);
        assertThat(m.get("ranking").asText()).isEqualTo("itc+itm(k=3)");
        assertThat(m.get("images").asInt()).isEqualTo(IMAGES);
        assertThat(m.get("texts").asInt()).isEqualTo(2 * IMAGES);
        assertMetrics(m, expected);
    }

    @Test
    void itcAloneEqualsTheDenseComputation() throws Exception {
        JsonNode m = evaluate("itc", 0);
        assertThat(m.get("ranking").asText()).isEqualTo("itc");
        assertMetrics(m, direct(0));
    }

    private static void assertMetrics(JsonNode m, RetrievalMetrics expected) {
        JsonNode e = expected.toJson();
        for (String key : List.of("txt_r1", "txt_r5", "txt_r10", "txt_r_mean", "img_r1", "img_r5", "img_r10",
                "img_r_mean", "r_mean")) {
            assertThat(m.get(key).asDouble()).as(key).isEqualTo(e.get(key).asDouble());
        }
    }

    /** ALBEF's evaluation written out densely in one JVM. */
    private static RetrievalMetrics direct(int k) throws Exception {
        AlbefConfig config = AlbefPresets.get("albef_tiny");
        StateDict w = Safetensors.read(modelDir.resolve("model.safetensors"));
        AlbefRetrievalModel model = AlbefRetrievalModel.create(config, w, 30, "direct");
        ImageTransform t = ImageTransform.evalSquash(config.vision().imgSize(),
                config.vision().mean().stream().mapToDouble(Double::doubleValue).toArray(),
                config.vision().std().stream().mapToDouble(Double::doubleValue).toArray());
        int per = t.floatsPerImage();
        float[] pixels = new float[IMAGES * per];
        for (int i = 0; i < IMAGES; i++) {
            t.apply(ImageIO.read(dir.resolve(imageFiles.get(i)).toFile()), null, pixels, i * per);
        }
        int size = config.vision().imgSize();
        AlbefRetrievalModel.Encoded img = model.images(Nd4j.create(pixels, new long[] {IMAGES, 3, size, size}));
        List<String> cleaned = texts.stream().map(c -> CaptionText.preCaption(c, 30)).toList();
        TokenBatch tokens = BertTokenizer.bertBaseUncased().encodeBatch(cleaned, 30, BertTokenizer.Padding.MAX_LENGTH);
        AlbefRetrievalModel.Encoded txt = model.texts(tokens);
        INDArray sims = img.feat().mmul(txt.feat().transpose());
        float[][] i2t = sims.toFloatMatrix();
        float[][] t2i = sims.transpose().toFloatMatrix();
        if (k > 0) {
            INDArray mask = tokens.maskArray(org.nd4j.linalg.api.buffer.DataType.FLOAT);
            float[][] itm = new float[IMAGES][texts.size()];
            for (int i = 0; i < IMAGES; i++) {
                itm[i] = imageWithEveryText(model, img, txt, mask, i);
            }
            i2t = reRanked(i2t, itm, k, false);
            t2i = reRanked(t2i, itm, k, true);
        }
        int[] txt2img = new int[texts.size()];
        int[][] img2txt = new int[IMAGES][];
        for (int i = 0; i < IMAGES; i++) {
            img2txt[i] = new int[] {2 * i, 2 * i + 1};
            txt2img[2 * i] = i;
            txt2img[2 * i + 1] = i;
        }
        return RetrievalMetrics.fromScores(i2t, t2i, txt2img, img2txt);
    }

    /** The ITM score of image i with every caption, in one fusion pass. */
    private static float[] imageWithEveryText(AlbefRetrievalModel m, AlbefRetrievalModel.Encoded img,
            AlbefRetrievalModel.Encoded txt, INDArray mask, int i) {
        var all = org.nd4j.linalg.indexing.NDArrayIndex.all();
        INDArray image = img.embeds().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1), all, all);
        return m.itmScores(image.repeat(0, texts.size()), txt.embeds(), mask).toFloatVector();
    }

    /** Each row: −100 everywhere, the ITM score at the row's top k by ITC (ALBEF's score_matrix). */
    private static float[][] reRanked(float[][] itc, float[][] itm, int k, boolean byText) {
        float[][] out = new float[itc.length][];
        for (int q = 0; q < itc.length; q++) {
            float[] row = itc[q];
            out[q] = new float[row.length];
            Arrays.fill(out[q], -100f);
            Integer[] order = new Integer[row.length];
            Arrays.setAll(order, j -> j);
            Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
            for (int j = 0; j < Math.min(k, row.length); j++) {
                int c = order[j];
                out[q][c] = byText ? itm[c][q] : itm[q][c];
            }
        }
        return out;
    }
}
