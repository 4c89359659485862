package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every defect of an annotation file fails on the driver with the file, the entry and the field in the message. */
class AnnotationJsonMalformedTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    private void pretrainFails(String json, String... expected) {
        Path file = CaptionData.writeText(root.resolve("ann.json"), json);
        var thrown = assertThatThrownBy(() -> new PretrainJsonSource(storage, List.of(file.toString()), null).list())
                .isInstanceOf(PelaException.class).hasMessageContaining(file.toString());
        for (String e : expected) {
            thrown.hasMessageContaining(e);
        }
    }

    @Test
    void theTopLevelMustBeAListOfObjects() {
        pretrainFails("{\"image\": \"a.jpg\", \"caption\": \"x\"}", "the top level is an object, not a list");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"x\"}, \"b.jpg\"]", "entry 1 is a string, not an object");
        pretrainFails("", "the top level is empty");
        pretrainFails("[]", "no entries");
    }

    @Test
    void imageMustBeANonEmptyString() {
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"x\"}, {\"caption\": \"y\"}]", "entry 1 has no \"image\"");
        pretrainFails("[{\"image\": 12, \"caption\": \"x\"}]", "entry 0: \"image\" is a number, not a non-empty string");
        pretrainFails("[{\"image\": \"\", \"caption\": \"x\"}]", "entry 0: \"image\" is a string, not a non-empty string");
    }

    @Test
    void captionMustBeAStringOrANonEmptyListOfStrings() {
        pretrainFails("[{\"image\": \"a.jpg\"}]", "entry 0 has no \"caption\"");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": 3}]",
                "entry 0: \"caption\" is a number, neither a string nor a list of strings");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": {\"en\": \"x\"}}]", "\"caption\" is an object, neither");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": []}]", "entry 0: \"caption\" is an empty list");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"ok\"}, {\"image\": \"b.jpg\", \"caption\": [\"ok\", null]}]",
                "entry 1: \"caption\"[1] is null, not a string");
    }

    @Test
    void syntaxErrorsNameTheEntryAndThePlace() {
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"x\"},\n {\"image\": \"b.jpg\", \"caption\": \"y}\n]",
                "malformed JSON in entry 1 at line");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"x\"}] trailing", "malformed JSON");
        pretrainFails("[{\"image\": \"a.jpg\", \"caption\": \"x\"}] [1]", "content after the end of the JSON document");
    }

    /** 17 levels: one more than any annotation format needs; a hostile file cannot exhaust the parser's stack. */
    @Test
    void nestingIsBounded() {
        String deep = "[{\"image\": \"a.jpg\", \"caption\": \"x\", \"extra\": " + "[".repeat(15) + "]".repeat(15) + "}]";
        pretrainFails(deep, "malformed JSON in entry 0", "nesting depth");
    }

    @Test
    void fileSizeIsBounded() {
        Path file = CaptionData.writeText(root.resolve("big.json"), "[{\"image\": \"a.jpg\", \"caption\": \"x\"}]");
        assertThatThrownBy(() -> new PretrainJsonSource(storage, List.of(file.toString()), null, 16).list())
                .isInstanceOf(PelaException.class).hasMessageContaining("big.json")
                .hasMessageContaining("exceeds the limit of 16");
    }

    @Test
    void aMissingAnnotationFileIsNamed() {
        Path absent = root.resolve("absent.json");
        assertThatThrownBy(() -> new PretrainJsonSource(storage, List.of(absent.toString()), null).list())
                .isInstanceOf(PelaException.class).hasMessageContaining("absent.json").hasMessageContaining("does not exist");
    }

    @Test
    void retrievalTrainNeedsAnImageId() {
        Path file = CaptionData.writeText(root.resolve("coco_train.json"),
                "[{\"image\": \"a.jpg\", \"caption\": \"x\", \"image_id\": \"coco_1\"}, {\"image\": \"b.jpg\", \"caption\": \"y\"}]");
        assertThatThrownBy(() -> new RetrievalJsonSource(storage, null).train(List.of(file.toString())))
                .isInstanceOf(PelaException.class).hasMessageContaining("coco_train.json: entry 1 has no \"image_id\"");
        Path bool = CaptionData.writeText(root.resolve("bool.json"),
                "[{\"image\": \"a.jpg\", \"caption\": \"x\", \"image_id\": true}]");
        assertThatThrownBy(() -> new RetrievalJsonSource(storage, null).train(List.of(bool.toString())))
                .isInstanceOf(PelaException.class).hasMessageContaining("\"image_id\" is a boolean, not a string or an integer");
        Path test = CaptionData.writeText(root.resolve("coco_test.json"), "[{\"image\": \"a.jpg\", \"caption\": []}]");
        assertThatThrownBy(() -> new RetrievalJsonSource(storage, null).eval(test.toString()))
                .isInstanceOf(PelaException.class).hasMessageContaining("coco_test.json: entry 0: \"caption\" is an empty list");
    }

    private void karpathyFails(String json, String expected) {
        Path file = CaptionData.writeText(root.resolve("dataset_coco.json"), json);
        assertThatThrownBy(() -> new KarpathySource(storage, file.toString(), null).train())
                .isInstanceOf(PelaException.class).hasMessageContaining(file.toString()).hasMessageContaining(expected);
    }

    @Test
    void karpathyDefectsAreNamed() {
        karpathyFails("[]", "the top level is a list, not an object with a \"images\" list");
        karpathyFails("{\"dataset\": \"coco\"}", "no \"images\" list at the top level");
        karpathyFails("{\"images\": {}}", "\"images\" is an object, not a list of entries");
        String ok = "{\"filename\": \"a.jpg\", \"split\": \"train\", \"sentences\": [{\"raw\": \"x\"}]}";
        karpathyFails("{\"images\": [" + ok + ", {\"filename\": \"b.jpg\", \"split\": \"dev\", \"sentences\": []}]}",
                "entry 1: \"split\" is 'dev', not one of train, restval, val, test");
        karpathyFails("{\"images\": [{\"filename\": \"b.jpg\", \"split\": \"train\", \"sentences\": []}]}",
                "entry 0: \"sentences\" is an empty list");
        karpathyFails("{\"images\": [{\"filename\": \"b.jpg\", \"split\": \"train\", \"sentences\": [{\"tokens\": []}]}]}",
                "entry 0: sentences[0] has no \"raw\" string");
        karpathyFails("{\"images\": [{\"split\": \"train\", \"sentences\": [{\"raw\": \"x\"}]}]}",
                "entry 0 has no \"filename\"");
        karpathyFails("{\"images\": [{\"filepath\": 3, \"filename\": \"b.jpg\", \"split\": \"train\", \"sentences\": [{\"raw\": \"x\"}]}]}",
                "entry 0: \"filepath\" is a number, not a string");
    }
}
