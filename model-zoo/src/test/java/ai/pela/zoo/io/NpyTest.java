package ai.pela.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Npy} against bytes built here as numpy writes them, against files numpy wrote
 * ({@code src/test/resources/io/make_npy_fixtures.py}), and against malformed input.
 */
class NpyTest {
    @TempDir
    Path dir;

    static Stream<INDArray> arrays() {
        return Stream.of(
                Nd4j.create(SafetensorsTest.ramp(120), new long[] {2, 3, 4, 5}, DataType.FLOAT),
                Nd4j.scalar(DataType.FLOAT, -1.25f),
                Nd4j.createFromArray(1.0, -0.1, 1e300),
                Nd4j.createFromArray(new int[][] {{1, Integer.MIN_VALUE}, {Integer.MAX_VALUE, 0}}),
                Nd4j.createFromArray(Long.MIN_VALUE, 5L),
                Nd4j.create(new byte[] {0, 1, (byte) 200, (byte) 255}, new long[] {2, 2}, DataType.UBYTE),
                Nd4j.createFromArray(true, false, true),
                Nd4j.create(DataType.FLOAT, 0, 3));
    }

    @ParameterizedTest
    @MethodSource("arrays")
    void roundTrips(INDArray a) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(a, out);
        byte[] bytes = out.toByteArray();

        INDArray back = Npy.read(new ByteArrayInputStream(bytes), "mem.npy");

        assertThat(back.dataType()).isEqualTo(a.dataType());
        assertThat(back.shape()).isEqualTo(a.shape());
        assertThat(back).isEqualTo(a);
        assertThat(Npy.read(new ByteArrayInputStream(bytes), bytes.length, "mem.npy")).isEqualTo(a);
    }

    @Test
    void readsBytesBuiltAsNumpyWritesThem() {
        byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                le(24).putFloat(0).putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(-5.5f).array());

        INDArray a = Npy.read(new ByteArrayInputStream(bytes), "x.npy");

        assertThat(a.toFloatMatrix()).isEqualTo(new float[][] {{0, 1, 2}, {3, 4, -5.5f}});
    }

    @Test
    void writesTheSameBytesAsNumpy() throws IOException {
        INDArray a = Nd4j.createFromArray(new float[][] {{0, 0.25f, 0.5f}, {0.75f, 1, 1.25f}});
        byte[] expected = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                + " ".repeat(20), le(24).putFloat(0).putFloat(0.25f).putFloat(0.5f).putFloat(0.75f).putFloat(1)
                .putFloat(1.25f).array());

        assertThat(written(a)).isEqualTo(expected).isEqualTo(Files.readAllBytes(fixture("numpy_f4_2x3.npy")));
        assertThat(written(Nd4j.scalar(DataType.LONG, -7L)))
                .isEqualTo(Files.readAllBytes(fixture("numpy_i8_scalar.npy")));
        assertThat(written(Nd4j.createFromArray(true, false, true)))
                .isEqualTo(Files.readAllBytes(fixture("numpy_b1_3.npy")));
        assertThat(written(Nd4j.create(new byte[] {0, 1, (byte) 200, (byte) 255}, new long[] {2, 2}, DataType.UBYTE)))
                .isEqualTo(Files.readAllBytes(fixture("numpy_u1_2x2.npy")));
    }

    @Test
    void readsFilesNumpyWrote() throws Exception {
        assertThat(Npy.read(fixture("numpy_f4_2x3.npy")).toFloatMatrix())
                .isEqualTo(new float[][] {{0, 0.25f, 0.5f}, {0.75f, 1, 1.25f}});
        assertThat(Npy.read(fixture("numpy_u1_2x2.npy")).toIntMatrix()).isEqualTo(new int[][] {{0, 1}, {200, 255}});
        assertThat(Npy.read(fixture("numpy_b1_3.npy"))).isEqualTo(Nd4j.createFromArray(true, false, true));
        INDArray scalar = Npy.read(fixture("numpy_i8_scalar.npy"));
        assertThat(scalar.rank()).isZero();
        assertThat(scalar.getLong(0)).isEqualTo(-7L);
        assertThat(Npy.read(fixture("numpy_v2_f8_4.npy")).toDoubleVector()).containsExactly(1.5, -2.0, 1e300, 0.0);
        assertThat(Npy.read(fixture("numpy_v3_f4_2.npy")).toFloatVector()).containsExactly(3f, 4f);
    }

    @Test
    void readsFortranOrderIntoCOrder() throws Exception {
        INDArray a = Npy.read(fixture("numpy_i4_fortran_2x3x2.npy"));

        assertThat(a.ordering()).isEqualTo('c');
        assertThat(a).isEqualTo(Nd4j.createFromArray(
                new int[][][] {{{0, 1}, {2, 3}, {4, 5}}, {{6, 7}, {8, 9}, {10, 11}}}));
    }

    @Test
    void readsPython2StyleHeaderWithLongSuffixAndNoTrailingComma() {
        byte[] bytes = npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2L,)}", le(16).putLong(3)
                .putLong(-4).array());
        assertThat(Npy.read(new ByteArrayInputStream(bytes), "py2.npy").toLongVector()).containsExactly(3L, -4L);
    }

    @Test
    void readsVersion2And3HeadersWithDoubleQuotedKeys() {
        String dict = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": [1], }";
        for (int major : new int[] {2, 3}) {
            byte[] bytes = npy(major, dict, le(4).putFloat(7).array());
            assertThat(Npy.read(new ByteArrayInputStream(bytes), "v.npy")).isEqualTo(Nd4j.createFromArray(7f));
        }
    }

    @Test
    void writesAtomicallyToAPath() throws IOException {
        Path file = dir.resolve("a.npy");
        Npy.write(Nd4j.createFromArray(1f, 2f), file);
        Npy.write(Nd4j.createFromArray(3, 4, 5), file);

        assertThat(Npy.read(file)).isEqualTo(Nd4j.createFromArray(3, 4, 5));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("a.npy");
        }
    }

    @Test
    void unsupportedTypeIsRejectedWhenWriting() {
        INDArray half = Nd4j.createFromArray(1f).castTo(DataType.HALF);
        assertThatThrownBy(() -> Npy.write(half, new ByteArrayOutputStream()))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("cannot write a HALF array as .npy");
    }

    @Test
    void badMagic() {
        byte[] bytes = "PK\u0003\u0004 this is a zip".getBytes(StandardCharsets.ISO_8859_1);
        assertFails(bytes).hasMessageContaining("not a .npy file");
    }

    @Test
    void fileShorterThanTheMagic() {
        assertFails(new byte[] {(byte) 0x93, 'N'}).hasMessageContaining("truncated");
    }

    @Test
    void unsupportedVersion() {
        byte[] bytes = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new byte[4]);
        bytes[6] = 4;
        assertFails(bytes).hasMessageContaining("unsupported .npy format version 4.0");
    }

    @Test
    void bigEndianDescr() throws Exception {
        assertThatThrownBy(() -> Npy.read(fixture("numpy_f4_bigendian.npy")))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("unsupported dtype descr '>f4' (big-endian");
    }

    @Test
    void otherUnsupportedDescrs() {
        assertFails(header("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8))
                .hasMessageContaining("unsupported dtype descr '<c8'");
        assertFails(header("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4))
                .hasMessageContaining("unsupported dtype descr [[x, <f4]]");
    }

    @Test
    void malformedHeaders() {
        assertFails(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}", 24))
                .hasMessageContaining("malformed .npy header (expected ')' but found '}'");
        assertFails(header("{'descr': '<f4', 'fortran_order': False}", 4))
                .hasMessageContaining("header has keys [descr, fortran_order]; expected exactly");
        assertFails(header("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", 4))
                .hasMessageContaining("'fortran_order' is 0, not True or False");
        assertFails(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 4))
                .hasMessageContaining("not a tuple of non-negative integers");
        assertFails(header("[" + "(".repeat(5_000), 0)).hasMessageContaining("nesting deeper than 16");
        assertFails(header("{'shape': (99999999999999999999,)}", 0)).hasMessageContaining("bad integer");
    }

    @Test
    void headerLengthOverTheLimit() {
        byte[] bytes = le(20).put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(Integer.MIN_VALUE)
                .array();
        assertFails(bytes).hasMessageContaining("header of 2147483648 bytes exceeds the 1 MB limit");
    }

    @Test
    void headerLengthPastTheEndOfAFile() {
        byte[] bytes = le(20).put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) 500)
                .array();
        assertFails(bytes).hasMessageContaining("header length 500 runs past the end of the file (20 bytes)");
    }

    @Test
    void truncatedData() throws IOException {
        byte[] whole = written(Nd4j.createFromArray(1f, 2f, 3f));
        byte[] cut = Arrays.copyOf(whole, whole.length - 2);
        Path file = dir.resolve("cut.npy");
        Files.write(file, cut);

        assertThatThrownBy(() -> Npy.read(file))
                .isInstanceOf(PelaException.class)
                .hasMessage(file + ": truncated: shape [3] of <f4 needs 12 bytes of data but the file holds only 10"
                        + " after the header");
        assertThatThrownBy(() -> Npy.read(new ByteArrayInputStream(cut), "stream.npy"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("stream.npy: truncated");
    }

    @Test
    void trailingBytes() {
        byte[] whole = written(Nd4j.createFromArray(1f, 2f, 3f));
        byte[] longer = Arrays.copyOf(whole, whole.length + 3);
        assertFails(longer).hasMessageContaining("3 trailing bytes after the 12 bytes of data");
        assertThatThrownBy(() -> Npy.read(new ByteArrayInputStream(longer), "stream.npy"))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("trailing bytes");
    }

    @Test
    void missingFile() {
        Path missing = dir.resolve("missing.npy");
        assertThatThrownBy(() -> Npy.read(missing)).isInstanceOf(PelaException.class)
                .hasMessage(missing + ": no such file");
    }

    private static byte[] written(INDArray a) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(a, out);
        return out.toByteArray();
    }

    private static Path fixture(String name) throws IOException {
        try {
            return Path.of(NpyTest.class.getResource("/io/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    /** A file with the given header (padded as numpy pads it) and {@code dataBytes} zero bytes of data. */
    private static byte[] header(String dict, int dataBytes) {
        return npy(1, dict, new byte[dataBytes]);
    }

    /**
     * A .npy file as numpy lays it out: magic, version, header length (2 bytes for version 1, else 4), the dict
     * padded with spaces and ended by a newline so that the preamble is a multiple of 64 bytes, then the data.
     */
    static byte[] npy(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        byte[] text = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int unpadded = 8 + lengthBytes + text.length + 1;
        int padding = 64 - unpadded % 64;
        int headerLength = text.length + padding + 1;
        ByteBuffer b = le(8 + lengthBytes + headerLength + data.length)
                .put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        return b.put(text).put(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII)).put((byte) '\n')
                .put(data).array();
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertFails(byte[] bytes) {
        return assertThatThrownBy(() -> Npy.read(new ByteArrayInputStream(bytes), bytes.length, "x.npy"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("x.npy: ")
                .hasMessageNotContaining("\n");
    }
}
