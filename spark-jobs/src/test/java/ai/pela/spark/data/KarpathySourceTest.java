package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KarpathySourceTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();
    private Path file;

    /** Six images in dataset_coco.json's layout: train, restval, val, test, train, test; 3 sentences each. */
    @BeforeEach
    void dataset() {
        String[] splits = {"train", "restval", "val", "test", "train", "test"};
        String[] dirs = {"train2014", "val2014", "val2014", "val2014", "train2014", "val2014"};
        List<Map<String, Object>> images = new ArrayList<>();
        for (int i = 0; i < splits.length; i++) {
            String name = "COCO_" + dirs[i] + "_" + String.format("%012d", 100 + i) + ".jpg";
            CaptionData.writePair(root, "coco/" + dirs[i] + "/" + name, 2 * i, 2 * i + 1);
            images.add(image(dirs[i], name, splits[i], i, CaptionData.captions(2 * i, 2 * i + 1)));
        }
        Map<String, Object> dataset = new LinkedHashMap<>();
        dataset.put("images", images);
        dataset.put("dataset", "coco");
        file = CaptionData.writeJson(root.resolve("dataset_coco.json"), dataset);
    }

    private static Map<String, Object> image(String dir, String name, String split, int id, List<String> raw) {
        List<Map<String, Object>> sentences = new ArrayList<>();
        for (int s = 0; s < raw.size(); s++) {
            Map<String, Object> sentence = new LinkedHashMap<>();
            sentence.put("tokens", List.of(raw.get(s).toLowerCase().replaceAll("[^a-z ]", "").split(" ")));
            sentence.put("raw", raw.get(s));
            sentence.put("imgid", id);
            sentence.put("sentid", id * 10 + s);
            sentences.add(sentence);
        }
        Map<String, Object> e = new LinkedHashMap<>();
        if (dir != null) {
            e.put("filepath", dir);
        }
        e.put("sentids", List.of(id * 10, id * 10 + 1, id * 10 + 2));
        e.put("filename", name);
        e.put("imgid", id);
        e.put("split", split);
        e.put("sentences", sentences);
        e.put("cocoid", 100 + id);
        return e;
    }

    private KarpathySource source() {
        return new KarpathySource(storage, file.toString(), root.resolve("coco").toString());
    }

    @Test
    void trainIsTrainPlusRestvalWithASamplePerSentence() {
        List<Sample> train = source().train();
        assertThat(train).hasSize(9);
        assertThat(train).extracting(Sample::name).containsExactly(
                "COCO_train2014_000000000100.jpg", "COCO_train2014_000000000100.jpg", "COCO_train2014_000000000100.jpg",
                "COCO_val2014_000000000101.jpg", "COCO_val2014_000000000101.jpg", "COCO_val2014_000000000101.jpg",
                "COCO_train2014_000000000104.jpg", "COCO_train2014_000000000104.jpg", "COCO_train2014_000000000104.jpg");
        assertThat(train).extracting(Sample::label).containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2);
        assertThat(train).extracting(s -> s.captions().texts()).allSatisfy(t -> assertThat(t).hasSize(1));
        assertThat(train.get(4).captions().texts()).containsExactly(CaptionData.captions(2, 3).get(1));
        assertThat(train).extracting(s -> s.captions().entry()).containsExactly(0, 0, 0, 1, 1, 1, 4, 4, 4);
        assertThat(train).allSatisfy(s -> assertThat(storage.exists(Storage.path(s.uri()))).isTrue());
    }

    @Test
    void valAndTestAreRetrievalSets() {
        RetrievalEvalSet val = source().eval("val");
        assertThat(val.images()).extracting(Sample::name).containsExactly("COCO_val2014_000000000102.jpg");
        assertThat(val.texts()).containsExactlyElementsOf(CaptionData.captions(4, 5));
        RetrievalEvalSet test = source().eval("test");
        assertThat(test.images()).extracting(Sample::label).containsExactly(0, 1);
        assertThat(test.txt2img()).containsExactly(0, 0, 0, 1, 1, 1);
        assertThat(test.img2txt()).isDeepEqualTo(new int[][] {{0, 1, 2}, {3, 4, 5}});
        assertThat(test.images().get(1).location()).contains("(entry 5 of ");
    }

    /** dataset_flickr30k.json has no "filepath": images lie directly under the root. */
    @Test
    void flickrStyleEntriesWithoutFilepath() {
        CaptionData.writePair(root, "flickr/1000092795.jpg", 3, 4);
        Map<String, Object> dataset = Map.of("images",
                List.of(image(null, "1000092795.jpg", "test", 0, CaptionData.captions(3, 4))));
        Path flickr = CaptionData.writeJson(root.resolve("dataset_flickr30k.json"), dataset);
        RetrievalEvalSet test = new KarpathySource(storage, flickr.toString(), root.resolve("flickr").toString())
                .eval("test");
        assertThat(test.images().get(0).uri()).isEqualTo(Storage.path(root.resolve("flickr/1000092795.jpg").toString()).toString());
    }

    @Test
    void unknownOrEmptySplitsFailNamingTheFile() {
        assertThatThrownBy(() -> source().eval("restval")).isInstanceOf(PelaException.class)
                .hasMessageContaining("dataset_coco.json").hasMessageContaining("must be val or test");
        assertThatThrownBy(() -> source().images("dev")).isInstanceOf(PelaException.class)
                .hasMessageContaining("split must be train, val or test, got 'dev'");
        Path onlyTrain = CaptionData.writeJson(root.resolve("only_train.json"), Map.of("images",
                List.of(image("train2014", "x.jpg", "train", 0, List.of("a caption")))));
        assertThatThrownBy(() -> new KarpathySource(storage, onlyTrain.toString(), null).eval("val"))
                .isInstanceOf(PelaException.class).hasMessageContaining("only_train.json: no images in split 'val'");
    }
}
