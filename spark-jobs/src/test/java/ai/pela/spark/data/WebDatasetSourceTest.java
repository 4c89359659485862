package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shards written by commons-compress (a real tar implementation) and by hand where a shard must be broken. */
class WebDatasetSourceTest {
    @TempDir
    Path dir;

    private final Storage storage = Storage.local();

    /** Items {@code from..from+n-1} as key → members; even items PNG, odd items JPEG, plus a .json to ignore. */
    private static Map<String, byte[]> members(String prefix, int from, int n) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int item = from; item < from + n; item++) {
            String key = prefix + String.format("%06d", item);
            boolean png = item % 2 == 0;
            m.put(key + (png ? ".png" : ".jpg"), TestData.encode(TestData.colour(item), png ? "png" : "jpg"));
            m.put(key + ".cls", TestData.ascii(TestData.label(item) + "\n"));
            m.put(key + ".json", TestData.ascii("{\"item\": " + item + "}"));
        }
        return m;
    }

    private static Path writeShard(Path file, Map<String, byte[]> members, int longFileMode) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            tar.setLongFileMode(longFileMode);
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(m.getKey());
                e.setSize(m.getValue().length);
                tar.putArchiveEntry(e);
                tar.write(m.getValue());
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    private static byte[] read(Storage storage, Sample s) throws BadImageException {
        return BatchLoader.readBytes(storage, s);
    }

    @Test
    void listsShardsOfABraceSpecAndReadsEachImageBackByteForByte() throws Exception {
        Map<String, byte[]> first = members("", 0, 5);
        Map<String, byte[]> second = members("", 5, 4);
        writeShard(dir.resolve("shard-000000.tar"), first, TarArchiveOutputStream.LONGFILE_ERROR);
        writeShard(dir.resolve("shard-000001.tar"), second, TarArchiveOutputStream.LONGFILE_ERROR);

        WebDatasetSource source = new WebDatasetSource(storage, dir + "/shard-{000000..000001}.tar");
        assertThat(source.shards()).hasSize(2).allSatisfy(s -> assertThat(s).startsWith("file:"));
        WebDatasetSource.Listing listing = source.list();

        assertThat(listing.samples()).hasSize(9);
        assertThat(listing.samples()).extracting(Sample::label)
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 9).map(TestData::label).boxed().toList());
        assertThat(listing.numClasses()).isEqualTo(1 + listing.samples().stream().mapToInt(Sample::label).max().orElseThrow());
        assertThat(listing.samples().get(6).name()).isEqualTo("shard-000001.tar:000006.png");
        for (Sample s : listing.samples()) {
            Map<String, byte[]> shard = s.uri().endsWith("000000.tar") ? first : second;
            assertThat(read(storage, s)).isEqualTo(shard.get(s.member()));
        }
    }

    @Test
    void readsGnuAndPaxLongNames() throws Exception {
        String deep = "a-directory-with-a-rather-long-name/".repeat(4);
        for (int mode : new int[] {TarArchiveOutputStream.LONGFILE_GNU, TarArchiveOutputStream.LONGFILE_POSIX}) {
            Map<String, byte[]> m = members(deep, 10, 3);
            Path shard = writeShard(dir.resolve("long-" + mode + ".tar"), m, mode);
            List<Sample> samples = new WebDatasetSource(storage, shard.toString()).listShard(shard.toString());
            assertThat(samples).extracting(Sample::member)
                    .containsExactly(deep + "000010.png", deep + "000011.jpg", deep + "000012.png");
            for (Sample s : samples) {
                assertThat(read(storage, s)).isEqualTo(m.get(s.member()));
            }
        }
    }

    @Test
    void rejectsMemberNamesThatEscapeTheirDirectory() {
        byte[] png = TestData.encode(TestData.colour(0), "png");
        Path dotdot = TestData.write(dir.resolve("dotdot.tar"), new TestData.TinyTar()
                .add("ok/000000.png", png).add("../evil/000001.png", png).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, dotdot.toString()).list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("dotdot.tar").hasMessageContaining("../evil/000001.png")
                .hasMessageContaining("'..'");
        Path absolute = TestData.write(dir.resolve("absolute.tar"), new TestData.TinyTar()
                .add("/etc/000000.png", png).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, absolute.toString()).list())
                .hasMessageContaining("absolute.tar").hasMessageContaining("/etc/000000.png")
                .hasMessageContaining("absolute path");
    }

    @Test
    void aTruncatedShardFailsNamingIt() throws Exception {
        Path whole = writeShard(dir.resolve("whole.tar"), members("", 0, 4), TarArchiveOutputStream.LONGFILE_ERROR);
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = TestData.write(dir.resolve("cut.tar"), Arrays.copyOf(bytes, 2000));
        assertThatThrownBy(() -> new WebDatasetSource(storage, cut.toString()).list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("cut.tar").hasMessageContaining("truncated");

        byte[] png = TestData.encode(TestData.colour(0), "png");
        byte[] noEnd = new TestData.TinyTar().add("000000.png", png).add("000000.cls", TestData.ascii("1")).bytes();
        Path atBoundary = TestData.write(dir.resolve("no-end.tar"), noEnd);
        assertThatThrownBy(() -> new WebDatasetSource(storage, atBoundary.toString()).list())
                .hasMessageContaining("no-end.tar").hasMessageContaining("truncated")
                .hasMessageContaining("end-of-archive");
    }

    @Test
    void aKeyWithoutItsClassOrWithAnUnreadableClassFails() {
        byte[] png = TestData.encode(TestData.colour(0), "png");
        Path noCls = TestData.write(dir.resolve("nocls.tar"), new TestData.TinyTar()
                .add("000000.png", png).add("000000.cls", TestData.ascii("3"))
                .add("000001.png", png).add("000001.txt", TestData.ascii("a caption")).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, noCls.toString()).list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("nocls.tar").hasMessageContaining("key 000001 has no .cls member");

        Path badCls = TestData.write(dir.resolve("badcls.tar"), new TestData.TinyTar()
                .add("000007.png", png).add("000007.cls", TestData.ascii("seven")).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, badCls.toString()).list())
                .hasMessageContaining("badcls.tar").hasMessageContaining("000007.cls holds 'seven'");

        Path clsOnly = TestData.write(dir.resolve("clsonly.tar"), new TestData.TinyTar()
                .add("000008.cls", TestData.ascii("1")).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, clsOnly.toString()).list())
                .hasMessageContaining("clsonly.tar").hasMessageContaining("key 000008 has a .cls but no");
    }

    @Test
    void labelsMustLieBelowTheNumberOfClasses() throws Exception {
        Path shard = writeShard(dir.resolve("s.tar"), members("", 0, 6), TarArchiveOutputStream.LONGFILE_ERROR);
        WebDatasetSource source = new WebDatasetSource(storage, shard.toString());
        int inferred = source.list().numClasses();
        assertThat(source.list(inferred + 5).numClasses()).isEqualTo(inferred + 5);
        assertThatThrownBy(() -> source.list(inferred - 1))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("s.tar:").hasMessageContaining("is outside [0, " + (inferred - 1) + ")");
    }

    @Test
    void anOversizedMemberIsRejectedWithoutReadingIt() throws Exception {
        long size = WebDatasetSource.MAX_IMAGE_BYTES + 1L;
        Path big = dir.resolve("big.tar");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(TestData.TinyTar.header("000000.jpg", '0', size));
            f.setLength(512 + (size + 511) / 512 * 512 + 1024); // sparse: the data and end marker are zeros
        }
        assertThatThrownBy(() -> new WebDatasetSource(storage, big.toString()).list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("big.tar").hasMessageContaining("000000.jpg")
                .hasMessageContaining("exceeds the limit");
    }

    @Test
    void aFileThatIsNotATarOrIsMissingFails() {
        Path junk = TestData.write(dir.resolve("junk.tar"), TestData.encode(TestData.colour(0), "png"));
        assertThatThrownBy(() -> new WebDatasetSource(storage, junk.toString()).list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("junk.tar").hasMessageContaining("not a tar file or corrupt");
        Path tiny = TestData.write(dir.resolve("tiny.tar"), TestData.ascii("hello"));
        assertThatThrownBy(() -> new WebDatasetSource(storage, tiny.toString()).list())
                .hasMessageContaining("tiny.tar").hasMessageContaining("not a tar file: 5 bytes");
        assertThatThrownBy(() -> new WebDatasetSource(storage, dir + "/missing-{0..1}.tar").list())
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("missing-0.tar").hasMessageContaining("does not exist");
    }

    @Test
    void aCorruptSizeFieldFails() {
        byte[] h = TestData.TinyTar.header("000000.png", '0', 10);
        h[124] = 'x';
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
        }
        byte[] digits = TestData.ascii(String.format("%06o", sum));
        System.arraycopy(digits, 0, h, 148, 6);
        Path bad = TestData.write(dir.resolve("badsize.tar"), new TestData.TinyTar().raw(h).finish());
        assertThatThrownBy(() -> new WebDatasetSource(storage, bad.toString()).list())
                .hasMessageContaining("badsize.tar").hasMessageContaining("bad size field");
    }
}
