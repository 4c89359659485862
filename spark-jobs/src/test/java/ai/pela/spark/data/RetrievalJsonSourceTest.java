package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.io.Storage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetrievalJsonSourceTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    @BeforeEach
    void images() {
        CaptionData.writePair(root, "train2014/t0.jpg", 0, 1);
        CaptionData.writePair(root, "train2014/t1.jpg", 2, 3);
        CaptionData.writePair(root, "val2014/v0.jpg", 4, 5);
        CaptionData.writePair(root, "val2014/v1.jpg", 6, 7);
        CaptionData.writePair(root, "val2014/v2.jpg", 8, 9);
    }

    private static Map<String, Object> entry(String image, Object caption, Object imageId) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("image", image);
        e.put("caption", caption);
        if (imageId != null) {
            e.put("image_id", imageId);
        }
        return e;
    }

    /** ALBEF's coco_train.json: an entry per caption; labels number image_ids in order of first appearance. */
    @Test
    void trainGivesASamplePerCaptionLabelledByImageId() {
        List<String> c0 = CaptionData.captions(0, 1);
        List<String> c1 = CaptionData.captions(2, 3);
        Path coco = CaptionData.writeJson(root.resolve("coco_train.json"), List.of(
                entry("train2014/t1.jpg", c1.get(0), "coco_2"),
                entry("train2014/t0.jpg", c0.get(0), "coco_1"),
                entry("train2014/t1.jpg", c1.get(1), "coco_2"),
                entry("train2014/t0.jpg", c0.get(1), "coco_1")));
        // Flickr30k's ids are numbers; "7" and 7 are one image, and the numbering goes on across files.
        Path flickr = CaptionData.writeJson(root.resolve("flickr_train.json"), List.of(
                entry("val2014/v0.jpg", "a flickr caption", 7),
                entry("val2014/v0.jpg", "another one", "7")));
        List<Sample> samples = new RetrievalJsonSource(storage, root.toString())
                .train(List.of(coco.toString(), flickr.toString()));
        assertThat(samples).extracting(Sample::name).containsExactly("t1.jpg", "t0.jpg", "t1.jpg", "t0.jpg", "v0.jpg", "v0.jpg");
        assertThat(samples).extracting(Sample::label).containsExactly(0, 1, 0, 1, 2, 2);
        assertThat(samples).extracting(s -> s.captions().texts().get(0))
                .containsExactly(c1.get(0), c0.get(0), c1.get(1), c0.get(1), "a flickr caption", "another one");
        assertThat(samples).extracting(s -> s.captions().index()).containsExactly(0, 1, 2, 3, 4, 5);
    }

    /**
     * ALBEF's re_eval_dataset on images with 2, 3 and 1 captions: texts in file order, txt2img = [0,0,1,1,1,2],
     * img2txt = [[0,1],[2,3,4],[5]].
     */
    @Test
    void evalBuildsTheTextListAndBothIndexMaps() {
        Path test = CaptionData.writeJson(root.resolve("coco_test.json"), List.of(
                entry("val2014/v0.jpg", CaptionData.captions(4, 5).subList(0, 2), null),
                entry("val2014/v1.jpg", CaptionData.captions(6, 7), null),
                entry("val2014/v2.jpg", List.of("one caption only"), null)));
        RetrievalEvalSet set = new RetrievalJsonSource(storage, root.toString()).eval(test.toString());
        assertThat(set.images()).extracting(Sample::name).containsExactly("v0.jpg", "v1.jpg", "v2.jpg");
        assertThat(set.images()).extracting(Sample::label).containsExactly(0, 1, 2);
        assertThat(set.texts()).hasSize(6).startsWith(CaptionData.captions(4, 5).get(0)).endsWith("one caption only");
        assertThat(set.texts().get(2)).isEqualTo(CaptionData.captions(6, 7).get(0));
        assertThat(set.txt2img()).containsExactly(0, 0, 1, 1, 1, 2);
        assertThat(set.img2txt()).isDeepEqualTo(new int[][] {{0, 1}, {2, 3, 4}, {5}});
        assertThat(set.images().get(1).location()).endsWith("v1.jpg (entry 1 of " + Storage.path(test.toString()) + ")");
    }
}
