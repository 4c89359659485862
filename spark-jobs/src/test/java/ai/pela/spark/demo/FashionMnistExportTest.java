package ai.pela.spark.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.data.Idx;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistExportTest {
    /** The real files: $PELA_FASHION_MNIST, Debian's dataset-fashion-mnist, or the package fetched into target/. */
    private static Path idxDir;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findRealFiles() {
        idxDir = TestFashionMnist.idxDir();
        assertThat(FashionMnistExport.missingFiles(idxDir)).as("Fashion-MNIST IDX files in %s", idxDir).isEmpty();
    }

    @Test
    void writesGreyPngsWhosePixelsAreTheIdxBytes() throws IOException {
        FashionMnistExport.Summary s = FashionMnistExport.export(idxDir, tmp.resolve("fmnist"), 300, 120);

        assertThat(s.reused()).isFalse();
        assertThat(s.trainImages()).isEqualTo(300);
        assertThat(s.valImages()).isEqualTo(120);
        assertThat(pngCount(s.root().resolve("train"))).isEqualTo(300);
        assertThat(pngCount(s.root().resolve("val"))).isEqualTo(120);

        Idx.UByteArray images = Idx.read(idxDir.resolve(FashionMnistExport.VAL_IMAGES));
        Idx.UByteArray labels = Idx.read(idxDir.resolve(FashionMnistExport.VAL_LABELS));
        for (int item : new int[] {0, 1, 57, 119}) {
            String dir = FashionMnistExport.CLASS_DIRS.get(labels.unsigned(item));
            Path png = s.root().resolve("val").resolve(dir).resolve(String.format("%04d.png", item));
            assertThat(png).as("item %d", item).isRegularFile();
            assertPixelsEqual(ImageIO.read(png.toFile()), images, item);
        }
    }

    private static void assertPixelsEqual(BufferedImage img, Idx.UByteArray images, int item) {
        assertThat(img.getType()).isEqualTo(BufferedImage.TYPE_BYTE_GRAY);
        assertThat(img.getWidth()).isEqualTo(28);
        assertThat(img.getHeight()).isEqualTo(28);
        int[] actual = img.getRaster().getPixels(0, 0, 28, 28, (int[]) null);
        int[] expected = new int[28 * 28];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = images.unsigned((long) item * 28 * 28 + i);
        }
        assertThat(actual).as("pixels of item %d", item).containsExactly(expected);
    }

    @Test
    void classFoldersSortInLabelOrderAndMarkerIsHidden() throws IOException {
        Path root = FashionMnistExport.export(idxDir, tmp.resolve("fmnist"), 200, 50).root();

        for (String split : List.of("train", "val")) {
            try (Stream<Path> dirs = Files.list(root.resolve(split))) {
                List<String> names = dirs.map(p -> p.getFileName().toString()).sorted().toList();
                assertThat(names).containsExactlyElementsOf(FashionMnistExport.CLASS_DIRS);
            }
        }
        assertThat(FashionMnistExport.CLASS_DIRS.get(0)).isEqualTo("0_t-shirt_top");
        assertThat(FashionMnistExport.CLASS_DIRS.get(9)).isEqualTo("9_ankle_boot");
        String marker = Files.readString(root.resolve(".complete"));
        assertThat(marker).contains("\"train\" : 200").contains("\"val\" : 50");
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactly("fmnist");
        }
    }

    @Test
    void secondCallWithSameCountsDoesNothingAndOtherCountsReplace() throws IOException {
        Path out = tmp.resolve("fmnist");
        FashionMnistExport.export(idxDir, out, 100, 30);
        Path marker = out.resolve(".complete");
        FileTime before = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(marker, before);

        FashionMnistExport.Summary again = FashionMnistExport.export(idxDir, out, 100, 30);
        assertThat(again.reused()).isTrue();
        assertThat(again.trainImages()).isEqualTo(100);
        assertThat(again.valImages()).isEqualTo(30);
        assertThat(Files.getLastModifiedTime(marker)).isEqualTo(before);

        FashionMnistExport.Summary other = FashionMnistExport.export(idxDir, out, 40, 20);
        assertThat(other.reused()).isFalse();
        assertThat(pngCount(out.resolve("train"))).isEqualTo(40);
        assertThat(pngCount(out.resolve("val"))).isEqualTo(20);
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactly("fmnist");
        }
    }

    @Test
    void leftoversOfAKilledExportAreRemovedOnlyWhenOld() throws IOException {
        Path stale = Files.createDirectories(tmp.resolve("fmnist.tmp-1234/train/0_t-shirt_top"));
        Files.write(stale.resolve("00000.png"), new byte[] {1});
        Files.setLastModifiedTime(tmp.resolve("fmnist.tmp-1234"), FileTime.fromMillis(0));
        Path running = Files.createDirectories(tmp.resolve("fmnist.tmp-5678"));

        FashionMnistExport.export(idxDir, tmp.resolve("fmnist"), 20, 10);

        assertThat(tmp.resolve("fmnist.tmp-1234")).doesNotExist();
        assertThat(running).isDirectory();
    }

    @Test
    void missingDirectoryNamesTheFilesItNeeds() {
        Path empty = tmp.resolve("nothing-here");
        assertThatThrownBy(() -> FashionMnistExport.export(empty, tmp.resolve("out"), 10, 10))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("does not exist")
                .hasMessageContaining(FashionMnistExport.TRAIN_IMAGES);
    }

    @Test
    void incompleteDirectoryListsTheMissingFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("partial"));
        Files.copy(idxDir.resolve(FashionMnistExport.TRAIN_IMAGES), dir.resolve(FashionMnistExport.TRAIN_IMAGES));
        assertThatThrownBy(() -> FashionMnistExport.export(dir, tmp.resolve("out"), 10, 10))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(FashionMnistExport.TRAIN_LABELS)
                .hasMessageContaining(FashionMnistExport.VAL_IMAGES)
                .hasMessageNotContaining(FashionMnistExport.TRAIN_IMAGES + ",");
    }

    @Test
    void corruptFileIsNamedAndNothingIsWritten() throws IOException {
        Path dir = copyOfRealFiles();
        Files.write(dir.resolve(FashionMnistExport.VAL_IMAGES), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        Path out = tmp.resolve("out");

        assertThatThrownBy(() -> FashionMnistExport.export(dir, out, 10, 10))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(dir.resolve(FashionMnistExport.VAL_IMAGES).toString())
                .hasMessageContaining("GZIP");
        assertThat(out).doesNotExist();
        try (Stream<Path> siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString())).containsExactly("idx");
        }
    }

    @Test
    void labelCountMismatchIsNamed() throws IOException {
        Path dir = copyOfRealFiles();
        // The test-set labels (10,000) beside the training images (60,000).
        Files.copy(idxDir.resolve(FashionMnistExport.VAL_LABELS), dir.resolve(FashionMnistExport.TRAIN_LABELS),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> FashionMnistExport.export(dir, tmp.resolve("out"), 10, 10))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(FashionMnistExport.TRAIN_LABELS)
                .hasMessageContaining("10000 labels")
                .hasMessageContaining("60000 images");
    }

    @Test
    void refusesToReplaceADirectoryItDidNotWrite() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("precious"));
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertThatThrownBy(() -> FashionMnistExport.export(idxDir, out, 10, 10))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(out.toString())
                .hasMessageContaining(".complete");
        assertThat(out.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void negativeLimitIsRejected() {
        assertThatThrownBy(() -> FashionMnistExport.export(idxDir, tmp.resolve("out"), -1, 0))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("trainLimit");
    }

    @Test
    void locateTakesTheVariableThenTheSystemThenTheCacheBeforeFetching() throws IOException {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Path nowhere = tmp.resolve("no-system-install");
        AtomicReference<Path> fetched = new AtomicReference<>();

        assertThat(FashionMnistExport.locate(idxDir.toString(), nowhere, cache, failIfCalled())).isEqualTo(idxDir);
        assertThat(FashionMnistExport.locate(null, idxDir, cache, failIfCalled())).isEqualTo(idxDir);
        assertThat(FashionMnistExport.locate("", nowhere, cache, p -> {
            fetched.set(p);
            return p;
        })).isEqualTo(cache.resolve("fashion-mnist"));
        assertThat(fetched.get()).isEqualTo(cache.resolve("fashion-mnist"));

        Path cached = Files.createDirectories(cache.resolve("fashion-mnist"));
        for (String f : FashionMnistExport.FILES) {
            Files.write(cached.resolve(f), new byte[] {1});
        }
        assertThat(FashionMnistExport.locate(null, nowhere, cache, failIfCalled())).isEqualTo(cached);
    }

    @Test
    void variableNamingAnIncompleteDirectoryFails() {
        Path nowhere = tmp.resolve("not-there");
        assertThatThrownBy(() -> FashionMnistExport.locate(nowhere.toString(), idxDir, tmp, failIfCalled()))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining(FashionMnistExport.ENV + "=" + nowhere)
                .hasMessageContaining("does not exist");
    }

    private static java.util.function.UnaryOperator<Path> failIfCalled() {
        return p -> {
            throw new AssertionError("fetch must not be called for " + p);
        };
    }

    private Path copyOfRealFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("idx"));
        for (String f : FashionMnistExport.FILES) {
            Files.copy(idxDir.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    private static long pngCount(Path splitDir) throws IOException {
        try (Stream<Path> files = Files.walk(splitDir)) {
            return files.filter(p -> p.toString().endsWith(".png")).count();
        }
    }
}
