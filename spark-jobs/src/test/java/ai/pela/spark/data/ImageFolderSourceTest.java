package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderSourceTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    private void image(String relative, int item) {
        String format = relative.toLowerCase().endsWith(".png") ? "png" : "jpg";
        TestData.write(root.resolve(relative), TestData.encode(TestData.colour(item), format));
    }

    private ImageFolderSource source() {
        return new ImageFolderSource(storage, root.toString());
    }

    @Test
    void listsClassesInSortedOrderAndFilesByNameWithinEachClass() throws Exception {
        image("train/shirt/b.png", 0);
        image("train/shirt/a.JPEG", 1);
        image("train/boot/z.jpg", 2);
        image("train/boot/c.png", 3);
        image("train/bag/only.Png", 4);
        TestData.write(root.resolve("train/boot/notes.txt"), TestData.ascii("not an image"));
        TestData.write(root.resolve("train/boot/.hidden.png"), TestData.ascii("editor junk"));
        TestData.write(root.resolve("train/_SUCCESS"), new byte[0]);
        Files.createDirectories(root.resolve("train/.ipynb_checkpoints"));

        assertThat(source().classes("train")).containsExactly("bag", "boot", "shirt");
        List<Sample> samples = source().list("train");
        assertThat(samples).extracting(Sample::name).containsExactly("only.Png", "c.png", "z.jpg", "a.JPEG", "b.png");
        assertThat(samples).extracting(Sample::label).containsExactly(0, 1, 1, 2, 2);
        assertThat(samples).allSatisfy(s -> {
            assertThat(s.wholeFile()).isTrue();
            assertThat(storage.exists(Storage.path(s.uri()))).isTrue();
        });
        assertThat(source().list("train")).isEqualTo(samples);
    }

    @Test
    void acceptsAHadoopUriAsRoot() {
        image("val/a/x.png", 0);
        List<Sample> samples = new ImageFolderSource(storage, root.toUri().toString()).list("val");
        assertThat(samples).hasSize(1);
        assertThat(samples.get(0).uri()).startsWith("file:").endsWith("/val/a/x.png");
    }

    @Test
    void aMissingSplitFailsNamingTheDirectory() {
        image("train/a/x.png", 0);
        assertThatThrownBy(() -> source().list("val"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(root.resolve("val").toString())
                .hasMessageContaining("split directory does not exist");
    }

    @Test
    void anEmptyClassFolderFailsNamingIt() throws Exception {
        image("train/a/x.png", 0);
        Files.createDirectories(root.resolve("train/b"));
        TestData.write(root.resolve("train/b/readme.txt"), TestData.ascii("no images here"));
        assertThatThrownBy(() -> source().list("train"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(root.resolve("train/b").toString())
                .hasMessageContaining("empty class folder");
    }

    @Test
    void imagesWithoutClassFoldersFail() {
        image("train/x.png", 0);
        image("train/y.png", 1);
        assertThatThrownBy(() -> source().list("train"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(root.resolve("train").toString())
                .hasMessageContaining("no class folders, 2 images lie directly in it");
    }

    @Test
    void aSplitWithNothingInItFails() throws Exception {
        Files.createDirectories(root.resolve("train"));
        assertThatThrownBy(() -> source().classes("train"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("no class folders, no images either");
    }

    @Test
    void trainAndValMustHaveTheSameClasses() {
        image("train/bag/x.png", 0);
        image("train/boot/x.png", 1);
        image("train/coat/x.png", 2);
        image("val/bag/x.png", 3);
        image("val/coat/x.png", 4);
        image("val/dress/x.png", 5);
        assertThatThrownBy(() -> source().checkSameClasses("train", "val"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(root.resolve("val").toString())
                .hasMessageContaining("missing: boot")
                .hasMessageContaining("not in train: dress");

        image("val/boot/y.png", 6);
        TestData.write(root.resolve("train/dress/x.png"), TestData.encode(TestData.colour(7), "png"));
        assertThat(source().checkSameClasses("train", "val")).containsExactly("bag", "boot", "coat", "dress");
    }
}
