package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

class BatchLoaderTest {
    private static final double[] MEAN = {0.5, 0.5, 0.5};
    private static final double[] STD = {0.25, 0.25, 0.25};
    private static final int SIZE = 24;

    @TempDir
    Path root;

    private final Storage storage = Storage.local();
    private final ImageTransform train = ImageTransform.train(SIZE, MEAN, STD);
    private List<Sample> samples;

    /** Eight real items in the ImageNet layout, PNG and JPEG mixed, classes by their Fashion-MNIST label. */
    @BeforeEach
    void dataset() {
        for (int item = 0; item < 8; item++) {
            String format = item % 2 == 0 ? "png" : "jpg";
            String cls = "class-" + TestData.label(item);
            TestData.write(root.resolve("train/" + cls + "/item" + item + "." + format),
                    TestData.encode(TestData.colour(item), format));
        }
        samples = new ImageFolderSource(storage, root.toString()).list("train");
    }

    private static long[] seeds(int n, long base) {
        long[] s = new long[n];
        for (int i = 0; i < n; i++) {
            s[i] = base + 31L * i;
        }
        return s;
    }

    @Test
    void loadsABatchAsTheTransformWouldOneByOne() throws Exception {
        long[] seeds = seeds(samples.size(), 100);
        BatchLoader.Batch batch;
        try (BatchLoader loader = new BatchLoader(storage, train, BadImagePolicy.FAIL)) {
            batch = loader.load(samples, seeds);
        }
        assertThat(batch.images().shape()).containsExactly(8, 3, SIZE, SIZE);
        assertThat(batch.images().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(batch.images().ordering()).isEqualTo('c');
        assertThat(batch.labels()).containsExactly(samples.stream().mapToInt(Sample::label).toArray());
        assertThat(batch.skipped()).isEmpty();
        float[] all = batch.images().data().asFloat();
        int per = train.floatsPerImage();
        for (int i = 0; i < samples.size(); i++) {
            byte[] bytes = BatchLoader.readBytes(storage, samples.get(i));
            float[] one = train.apply(ImageDecoder.decode(bytes), new SplittableRandom(seeds[i]));
            assertThat(Arrays.copyOfRange(all, i * per, (i + 1) * per)).containsExactly(one);
        }
    }

    @Test
    void threadsDoNotChangeTheResult() {
        long[] seeds = seeds(samples.size(), 7);
        try (BatchLoader one = new BatchLoader(storage, train, BadImagePolicy.FAIL, 1);
                BatchLoader three = new BatchLoader(storage, train, BadImagePolicy.FAIL, 3)) {
            float[] a = one.load(samples, seeds).images().data().asFloat();
            float[] b = three.load(samples, seeds).images().data().asFloat();
            float[] c = three.load(samples, seeds(samples.size(), 8)).images().data().asFloat();
            assertThat(b).containsExactly(a);
            assertThat(c).isNotEqualTo(a);
        }
    }

    /** A batch with a corrupt file, a truncated JPEG and a vanished file among the good ones. */
    private List<Sample> withBadImages() {
        byte[] jpeg = TestData.encode(TestData.colour(20), "jpg");
        Path truncated = TestData.write(root.resolve("bad/truncated.jpg"), Arrays.copyOf(jpeg, jpeg.length / 2));
        Path corrupt = TestData.write(root.resolve("bad/corrupt.png"), TestData.ascii("<html>404 not found</html>"));
        List<Sample> mixed = new ArrayList<>(samples.subList(0, 3));
        mixed.add(1, Sample.file(corrupt.toUri().toString(), 0));
        mixed.add(3, Sample.file(truncated.toUri().toString(), 1));
        mixed.add(Sample.file(root.resolve("bad/gone.jpg").toUri().toString(), 2));
        return mixed;
    }

    @Test
    void skipLeavesBadImagesOutAndListsThem() {
        List<Sample> mixed = withBadImages();
        BatchLoader.Batch batch;
        try (BatchLoader loader = new BatchLoader(storage, train, BadImagePolicy.SKIP, 2)) {
            batch = loader.load(mixed, seeds(mixed.size(), 1));
        }
        assertThat(batch.size()).isEqualTo(3);
        assertThat(batch.images().shape()).containsExactly(3, 3, SIZE, SIZE);
        assertThat(batch.labels()).containsExactly(samples.get(0).label(), samples.get(1).label(), samples.get(2).label());
        assertThat(batch.skipped()).hasSize(3);
        assertThat(batch.kept()).as("positions of the kept images in the request").containsExactly(0, 2, 4);
        assertThat(batch.skipped().get(0)).endsWith("corrupt.png");
        assertThat(batch.skipped().get(1)).endsWith("truncated.jpg");
        assertThat(batch.skipped().get(2)).endsWith("gone.jpg");

        // the good images are the same as in a batch without the bad ones, given the same per-sample seeds
        long[] seeds = seeds(mixed.size(), 1);
        long[] goodSeeds = {seeds[0], seeds[2], seeds[4]};
        try (BatchLoader loader = new BatchLoader(storage, train, BadImagePolicy.FAIL)) {
            assertThat(batch.images().data().asFloat())
                    .containsExactly(loader.load(samples.subList(0, 3), goodSeeds).images().data().asFloat());
        }
    }

    @Test
    void failNamesTheFileAndTheReason() {
        List<Sample> mixed = withBadImages();
        try (BatchLoader loader = new BatchLoader(storage, train, BadImagePolicy.FAIL)) {
            assertThatThrownBy(() -> loader.load(mixed, seeds(mixed.size(), 1)))
                    .isInstanceOf(PelaException.class)
                    .hasMessageContaining("corrupt.png").hasMessageContaining("not an image");
            assertThatThrownBy(() -> loader.load(mixed.subList(2, 4), new long[2]))
                    .isInstanceOf(PelaException.class)
                    .hasMessageContaining("truncated.jpg").hasMessageMatching("(?s).*(truncated|corrupt).*");
            assertThatThrownBy(() -> loader.load(mixed.subList(5, 6), new long[1]))
                    .hasMessageContaining("gone.jpg").hasMessageContaining("does not exist");
        }
    }

    @Test
    void aBatchOfOnlyBadImagesIsEmptyUnderSkip() {
        List<Sample> mixed = withBadImages();
        List<Sample> bad = List.of(mixed.get(1), mixed.get(3), mixed.get(5));
        try (BatchLoader loader = new BatchLoader(storage, ImageTransform.eval(SIZE, MEAN, STD), BadImagePolicy.SKIP)) {
            BatchLoader.Batch batch = loader.load(bad);
            assertThat(batch.size()).isZero();
            assertThat(batch.images().shape()).containsExactly(0, 3, SIZE, SIZE);
            assertThat(batch.skipped()).hasSize(3);
        }
    }

    @Test
    void readsMembersOfTarShards() throws Exception {
        byte[] png = TestData.encode(TestData.colour(30), "png");
        byte[] jpg = TestData.encode(TestData.colour(31), "jpg");
        Path shard = TestData.write(root.resolve("s-0.tar"), new TestData.TinyTar()
                .add("a.png", png).add("a.cls", TestData.ascii("4"))
                .add("b.jpg", jpg).add("b.cls", TestData.ascii("2")).finish());
        List<Sample> members = new WebDatasetSource(storage, shard.toString()).list(10).samples();
        ImageTransform eval = ImageTransform.eval(SIZE, MEAN, STD);
        try (BatchLoader loader = new BatchLoader(storage, eval, BadImagePolicy.FAIL)) {
            BatchLoader.Batch batch = loader.load(members);
            assertThat(batch.labels()).containsExactly(4, 2);
            float[] expected = eval.apply(ImageDecoder.decode(png), null);
            assertThat(Arrays.copyOf(batch.images().data().asFloat(), expected.length)).containsExactly(expected);
        }
        // a member whose range lies beyond the shard (the shard was replaced after listing) is a bad image
        Sample beyond = Sample.member(members.get(0).uri(), "c.png", 1 << 20, 100, 0);
        try (BatchLoader loader = new BatchLoader(storage, eval, BadImagePolicy.FAIL)) {
            assertThatThrownBy(() -> loader.load(List.of(beyond)))
                    .hasMessageContaining("s-0.tar:c.png").hasMessageContaining("truncated");
        }
    }

    @Test
    void policiesParseFromConfigStrings() {
        assertThat(BadImagePolicy.parse("skip")).isEqualTo(BadImagePolicy.SKIP);
        assertThat(BadImagePolicy.parse(" FAIL ")).isEqualTo(BadImagePolicy.FAIL);
        assertThatThrownBy(() -> BadImagePolicy.parse("ignore"))
                .isInstanceOf(PelaException.class).hasMessageContaining("'ignore'").hasMessageContaining("skip, fail");
    }
}
