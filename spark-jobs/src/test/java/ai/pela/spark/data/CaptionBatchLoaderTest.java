package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.CaptionText;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionBatchLoaderTest {
    private static final double[] MEAN = {0.5, 0.5, 0.5};
    private static final double[] STD = {0.25, 0.25, 0.25};
    private static final int SIZE = 32;
    private static final BertTokenizer BERT = BertTokenizer.bertBaseUncased();

    @TempDir
    Path root;

    private final Storage storage = Storage.local();
    private Path json;
    private List<Sample> samples;

    /**
     * Six entries: four good images, one listed image that does not exist (entry 2), one corrupt JPEG (entry 4:
     * the first half of a real one).
     */
    @BeforeEach
    void dataset() {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String image = "img/" + i + ".jpg";
            if (i != 2) {
                CaptionData.writePair(root, image, 2 * i, 2 * i + 1);
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("image", image);
            e.put("caption", CaptionData.captions(2 * i, 2 * i + 1));
            entries.add(e);
        }
        byte[] jpeg = TestData.encode(CaptionData.pair(8, 9), "jpg");
        TestData.write(root.resolve("img/4.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        json = CaptionData.writeJson(root.resolve("pretrain.json"), entries);
        samples = new PretrainJsonSource(storage, List.of(json.toString()), root.toString()).list();
    }

    private CaptionBatchLoader loader(BadImagePolicy policy) {
        return new CaptionBatchLoader(storage, ImageTransform.train(SIZE, MEAN, STD), policy, 2, BERT,
                CaptionBatchLoader.TextSpec.albefPretrain());
    }

    private static long[] seeds(int n) {
        long[] s = new long[n];
        Arrays.setAll(s, i -> 1000L + i);
        return s;
    }

    @Test
    void goodImagesComeWithTheirEpochsCaptionTokenised() {
        List<Sample> good = List.of(samples.get(0), samples.get(1), samples.get(3), samples.get(5));
        CaptionBatchLoader.CaptionBatch b;
        try (CaptionBatchLoader loader = loader(BadImagePolicy.FAIL)) {
            b = loader.load(good, seeds(4), 42, 3);
        }
        assertThat(b.images().shape()).containsExactly(4, 3, SIZE, SIZE);
        assertThat(b.labels()).containsExactly(0, 1, 3, 5);
        assertThat(b.skipped()).isEmpty();
        for (int i = 0; i < 4; i++) {
            String expected = CaptionText.preCaption(CaptionChoice.pick(good.get(i), 42, 3), 30);
            assertThat(b.captions().get(i)).isEqualTo(expected);
            assertThat(b.text().realLength(i)).isEqualTo(BERT.encode(expected, 25).length);
            assertThat(Arrays.copyOf(b.text().row(i), b.text().realLength(i))).containsExactly(BERT.encode(expected, 25));
        }
        assertThat(b.captions()).allSatisfy(c -> assertThat(c).doesNotContain(".", "!", ":", "-").isLowerCase());
    }

    /** The bad entries drop out; captions and labels stay lined up with the images that remain. */
    @Test
    void skipLeavesOutMissingAndCorruptImagesNamingEntryAndFile() {
        CaptionBatchLoader.CaptionBatch b;
        try (CaptionBatchLoader loader = loader(BadImagePolicy.SKIP)) {
            b = loader.load(samples, seeds(6), 7, 0);
        }
        assertThat(b.size()).isEqualTo(4);
        assertThat(b.labels()).containsExactly(0, 1, 3, 5);
        assertThat(b.text().batch()).isEqualTo(4);
        assertThat(b.captions().get(2)).isEqualTo(CaptionText.preCaption(CaptionChoice.pick(samples.get(3), 7, 0), 30));
        String file = Storage.path(json.toString()).toString();
        assertThat(b.skipped()).containsExactly(
                Storage.path(root.resolve("img/2.jpg").toString()) + " (entry 2 of " + file + ")",
                Storage.path(root.resolve("img/4.jpg").toString()) + " (entry 4 of " + file + ")");
    }

    @Test
    void failNamesTheAnnotationFileTheEntryAndTheImage() {
        try (CaptionBatchLoader loader = loader(BadImagePolicy.FAIL)) {
            assertThatThrownBy(() -> loader.load(samples.subList(0, 3), seeds(3), 7, 0))
                    .isInstanceOf(PelaException.class)
                    .hasMessageContaining(root.resolve("img/2.jpg").toString())
                    .hasMessageContaining("entry 2 of")
                    .hasMessageContaining("pretrain.json")
                    .hasMessageContaining("does not exist");
            assertThatThrownBy(() -> loader.load(samples.subList(3, 5), seeds(2), 7, 0))
                    .isInstanceOf(PelaException.class)
                    .hasMessageContaining("img/4.jpg (entry 4 of ")
                    .hasMessageContaining("bad image");
        }
    }
}
