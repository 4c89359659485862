package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CocoInstancesTest {
    private static final String VALID = """
            {"images": [{"id": 7, "file_name": "a.jpg", "width": 64, "height": 48},
                        {"id": 3, "file_name": "b.jpg", "width": 32, "height": 32}],
             "annotations": [{"id": 1, "image_id": 7, "category_id": 2, "bbox": [1, 2, 3.5, 4], "area": 10.5,
                              "iscrowd": 0, "segmentation": [[1, 2, 3, 4, 5, 6]]},
                             {"id": 2, "image_id": 7, "category_id": 5, "bbox": [0, 0, 10, 10], "area": 80,
                              "iscrowd": 1},
                             {"id": 3, "image_id": 3, "category_id": 2, "bbox": [0, 0, 1, 1], "area": 1}],
             "categories": [{"id": 5, "name": "car", "supercategory": "vehicle"}, {"id": 2, "name": "person"}]}
            """;

    @TempDir
    Path dir;

    private static JsonNode tree(String json) throws Exception {
        return EvalFixtures.JSON.readTree(json);
    }

    private static CocoInstances parse(String json) throws Exception {
        return CocoInstances.parse(tree(json), "instances_val.json");
    }

    @Test
    void readsImagesAnnotationsAndCategoriesFromAHadoopPath() throws Exception {
        Path file = dir.resolve("instances_val.json");
        Files.writeString(file, VALID);
        CocoInstances gt = CocoInstances.read(Storage.local(), file.toUri().toString());
        assertThat(gt.imageIds()).containsExactly(3, 7);
        assertThat(gt.categoryIds()).containsExactly(2, 5);
        assertThat(gt.image(7)).isEqualTo(new CocoInstances.Image(7, "a.jpg", 64, 48));
        assertThat(gt.categories()).extracting(CocoInstances.Category::name).containsExactly("car", "person");
        assertThat(gt.annotationsOf(7)).containsExactly(
                new CocoInstances.Annotation(1, 7, 2, new Box(1, 2, 3.5, 4), 10.5, false),
                new CocoInstances.Annotation(2, 7, 5, new Box(0, 0, 10, 10), 80, true));
        assertThat(gt.annotationsOf(3)).hasSize(1);
        assertThat(gt.annotationsOf(99)).isEmpty();
    }

    /** Each row: a replacement applied to the valid file, and what the error must say. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"images\"|\"imagez\"|images: missing",
        "\"categories\": [{\"id\": 5|\"categories\": 5, \"cats\": [{\"id\": 5|categories: expected an array, got the number 5",
        "\"bbox\": [1, 2, 3.5, 4]|\"bbox\": [1, 2, 3.5]|annotations[0].bbox: expected [x, y, width, height], got 3 values",
        "\"bbox\": [1, 2, 3.5, 4]|\"bbox\": [1, 2, -3.5, 4]|annotations[0].bbox: negative width or height",
        "\"bbox\": [1, 2, 3.5, 4]|\"bbox\": [1, \"2\", 3.5, 4]|annotations[0].bbox: expected [x, y, width, height] of finite numbers",
        "\"image_id\": 3, \"category_id\": 2|\"image_id\": 3, \"category_id\": 9|annotations[2].category_id: category 9 is not in categories",
        "\"image_id\": 3, \"category_id\": 2|\"image_id\": 4, \"category_id\": 2|annotations[2].image_id: image 4 is not in images",
        "{\"id\": 3, \"image_id\": 3|{\"id\": 2, \"image_id\": 3|annotations[2].id: annotation id 2 occurs twice (also annotations[1])",
        "{\"id\": 3, \"file_name\"|{\"id\": 7, \"file_name\"|images[1].id: image id 7 occurs twice",
        "{\"id\": 2, \"name\": \"person\"}|{\"id\": 5, \"name\": \"person\"}|categories[1].id: category id 5 occurs twice",
        "{\"id\": 1, \"image_id\": 7|{\"id\": 0, \"image_id\": 7|annotations[0].id: 0 is outside [1,",
        "{\"id\": 1, \"image_id\": 7|{\"id\": 1.5, \"image_id\": 7|annotations[0].id: expected an integer, got the number 1.5",
        "\"area\": 10.5,|\"areas\": 10.5,|annotations[0].area: missing",
        "\"iscrowd\": 1|\"iscrowd\": 2|annotations[1].iscrowd: 2 is outside [0, 1]",
        "\"width\": 64|\"width\": \"64\"|images[0].width: expected an integer, got the string \"64\"",
    })
    void malformedFilesFailNamingFileAndField(String from, String to, String message) {
        String broken = VALID.replace(from, to);
        assertThat(broken).isNotEqualTo(VALID);
        assertThatThrownBy(() -> parse(broken))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("instances_val.json: ")
                .hasMessageContaining(message);
    }

    @Test
    void wholeNumbersWrittenAsFloatsAreIntegers() throws Exception {
        CocoInstances gt = parse(VALID.replace("\"image_id\": 3, \"category_id\": 2", "\"image_id\": 3.0, \"category_id\": 2.0"));
        assertThat(gt.annotationsOf(3)).singleElement().extracting(CocoInstances.Annotation::categoryId).isEqualTo(2);
    }

    @Test
    void invalidJsonFailsWithFileLineAndColumn() throws Exception {
        Path file = dir.resolve("instances_val.json");
        Files.write(file, "{\"images\": [,]}".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> CocoInstances.read(Storage.local(), file.toString()))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith(file + ": not valid JSON")
                .hasMessageContaining("line 1, column");
        assertThatThrownBy(() -> CocoInstances.read(Storage.local(), dir.resolve("absent.json").toString()))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("absent.json: file does not exist");
    }

    // ------------------------------------------------------------------------------------------------- results

    @Test
    void readsResultsAndRefusesUnknownImagesOrCategories() throws Exception {
        CocoInstances gt = parse(VALID);
        List<CocoDetection> dets = CocoDetection.parse(tree(
                "[{\"image_id\": 7, \"category_id\": 5, \"bbox\": [1, 1, 2, 2], \"score\": 0.25}]"), "res.json", gt);
        assertThat(dets).containsExactly(new CocoDetection(7, 5, new Box(1, 1, 2, 2), 0.25));

        assertThatThrownBy(() -> CocoDetection.parse(tree(
                "[{\"image_id\": 8, \"category_id\": 5, \"bbox\": [1, 1, 2, 2], \"score\": 0.25}]"), "res.json", gt))
                .isInstanceOf(PelaException.class)
                .hasMessage("res.json: [0].image_id: image 8 is not in the ground truth instances_val.json");
        assertThatThrownBy(() -> CocoDetection.parse(tree(
                "[{\"image_id\": 7, \"category_id\": 0, \"bbox\": [1, 1, 2, 2], \"score\": 0.25}]"), "res.json", gt))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("res.json: [0].category_id: category 0 is not in the ground truth's categories");
        assertThatThrownBy(() -> CocoDetection.parse(tree(
                "[{\"image_id\": 7, \"category_id\": 5, \"bbox\": [1, 1, 2, 2]}]"), "res.json", gt))
                .hasMessage("res.json: [0].score: missing");
        assertThatThrownBy(() -> CocoDetection.parse(tree("{\"image_id\": 7}"), "res.json", gt))
                .hasMessageStartingWith("res.json: top level: expected an array");
    }
}
