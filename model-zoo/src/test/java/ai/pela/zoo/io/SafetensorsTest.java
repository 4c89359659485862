package ai.pela.zoo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Round trips, dtype widening and streaming of {@link Safetensors}; SafetensorsMalformedTest covers bad files. */
class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryWritableTypeAndShapeInOrder() {
        StateDict sd = new StateDict()
                .put("blocks.0.attn.qkv.weight", Nd4j.create(ramp(120), new long[] {2, 3, 4, 5}, DataType.FLOAT))
                .put("scale", Nd4j.scalar(DataType.FLOAT, 2.5f))
                .put("positions", Nd4j.createFromArray(1L, -2L, Long.MAX_VALUE))
                .put("counts", Nd4j.createFromArray(new int[][] {{1, 2}, {3, Integer.MIN_VALUE}}))
                .put("empty", Nd4j.create(DataType.FLOAT, 0, 3))
                .put("a.weight", Nd4j.createFromArray(1.5f, 2.5f));

        StateDict back = Safetensors.read(new ByteArrayInputStream(toBytes(sd)), toBytes(sd).length, "mem");

        assertThat(back.keys()).containsExactlyElementsOf(sd.keys());
        for (String key : sd.keys()) {
            assertThat(back.get(key)).as(key).isEqualTo(sd.get(key));
            assertThat(back.get(key).shape()).as(key).isEqualTo(sd.get(key).shape());
        }
        assertThat(back.get("scale").rank()).isZero();
        assertThat(back.get("positions").dataType()).isEqualTo(DataType.LONG);
        assertThat(back.get("counts").dataType()).isEqualTo(DataType.INT);
    }

    @Test
    void doublesAreWrittenAsF64AndReadBackAsFloat() throws IOException {
        StateDict sd = new StateDict().put("d", Nd4j.createFromArray(1.0, -0.1, 1e300));
        byte[] bytes = toBytes(sd);

        assertThat(header(bytes).get("d").get("dtype").asText()).isEqualTo("F64");
        INDArray back = Safetensors.read(new ByteArrayInputStream(bytes), bytes.length, "mem").get("d");
        assertThat(back.dataType()).isEqualTo(DataType.FLOAT);
        assertThat(back.toFloatVector()).containsExactly(1.0f, -0.1f, Float.POSITIVE_INFINITY);
    }

    @Test
    void writesViewsAndFortranOrderArraysInCOrder() {
        INDArray base = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        StateDict sd = new StateDict()
                .put("transposed", base.transpose())
                .put("row", base.getRow(1))
                .put("fortran", base.dup('f'));

        StateDict back = Safetensors.read(new ByteArrayInputStream(toBytes(sd)), toBytes(sd).length, "mem");

        assertThat(back.get("transposed").toFloatMatrix()).isEqualTo(new float[][] {{1, 4}, {2, 5}, {3, 6}});
        assertThat(back.get("row").toFloatVector()).containsExactly(4, 5, 6);
        assertThat(back.get("fortran").toFloatMatrix()).isEqualTo(base.toFloatMatrix());
    }

    @Test
    void headerIsCompactJsonPaddedWithSpacesToAMultipleOf8InStateDictOrder() throws IOException {
        StateDict sd = new StateDict().put("z", Nd4j.createFromArray(1f)).put("a", Nd4j.createFromArray(2, 3));
        byte[] bytes = toBytes(sd);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String json = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);

        assertThat(n % 8).isZero();
        assertThat(json.strip()).isEqualTo("{\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[4,12]}}");
        assertThat(json.substring(json.strip().length())).matches(" *");
        assertThat(bytes).hasSize(8 + (int) n + 12);
    }

    @Test
    void metadataRoundTripsAndDoesNotDisturbTensors() {
        StateDict sd = new StateDict().put("w", Nd4j.createFromArray(1f, 2f));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Safetensors.write(sd, Map.of("format", "pt", "epoch", "3"), out);
        byte[] bytes = out.toByteArray();

        assertThat(Safetensors.readMetadata(new ByteArrayInputStream(bytes), bytes.length, "mem"))
                .containsExactlyInAnyOrderEntriesOf(Map.of("format", "pt", "epoch", "3"));
        assertThat(Safetensors.read(new ByteArrayInputStream(bytes), bytes.length, "mem").keys()).containsExactly("w");
        assertThat(Safetensors.readMetadata(new ByteArrayInputStream(toBytes(sd)), toBytes(sd).length, "m")).isEmpty();
    }

    @Test
    void readsOutOfOrderOffsetsWithGapsWithoutSeekingAndKeepsHeaderOrder() {
        // 'late' sits after a 4-byte gap and after 'early' in the data area but comes first in the header.
        String json = "{\"late\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[12,20]},"
                + "\"early\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        ByteBuffer data = le(20).putFloat(1.5f).putFloat(-2f).putInt(0xdeadbeef).putLong(42L);
        byte[] bytes = file(json, data.array());

        StateDict sd = Safetensors.read(new OneWayStream(bytes), bytes.length, "mem");

        assertThat(sd.keys()).containsExactly("late", "early");
        assertThat(sd.get("late").getLong(0)).isEqualTo(42L);
        assertThat(sd.get("early").toFloatVector()).containsExactly(1.5f, -2f);
    }

    @Test
    void readsI64AndI32() {
        String json = "{\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1,2],\"data_offsets\":[16,24]}}";
        byte[] bytes = file(json, le(24).putLong(-1L).putLong(1L << 40).putInt(7).putInt(-7).array());

        StateDict sd = Safetensors.read(new ByteArrayInputStream(bytes), bytes.length, "mem");

        assertThat(sd.get("l").toLongVector()).containsExactly(-1L, 1L << 40);
        assertThat(sd.get("i").toIntMatrix()).isEqualTo(new int[][] {{7, -7}});
    }

    @Test
    void widensF16FromKnownBitPatterns() {
        short[] bits = {0x3c00, (short) 0xc100, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, (short) 0xfc00, 0x7e00,
                0x0000, (short) 0x8000};
        float[] expected = {1.0f, -2.5f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, 0.0f, -0.0f};

        float[] read = readHalfs("F16", bits);

        for (int i = 0; i < bits.length; i++) {
            // Float.compare tells -0 from +0 and treats NaN as equal to NaN.
            assertThat(Float.compare(read[i], expected[i])).as("F16 bits %04x", bits[i]).isZero();
        }
    }

    @Test
    void widensBf16FromKnownBitPatterns() {
        short[] bits = {0x3f80, (short) 0xc020, 0x4049, 0x0001, 0x7f80, (short) 0xff80, 0x7fc0, 0x0000,
                (short) 0x8000};
        float[] expected = {1.0f, -2.5f, 3.140625f, Float.intBitsToFloat(0x10000), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, 0.0f, -0.0f};

        float[] read = readHalfs("BF16", bits);

        for (int i = 0; i < bits.length; i++) {
            assertThat(Float.compare(read[i], expected[i])).as("BF16 bits %04x", bits[i]).isZero();
        }
    }

    @Test
    void halfToFloatAgreesWithTheDefinitionForAllNonNanPatterns() {
        for (int h = 0; h < 0x10000; h++) {
            int exponent = (h >>> 10) & 0x1f;
            int mantissa = h & 0x3ff;
            float actual = Safetensors.halfToFloat((short) h);
            if (exponent == 0x1f) {
                assertThat(mantissa == 0 ? Float.isInfinite(actual) : Float.isNaN(actual)).as("%04x", h).isTrue();
                continue;
            }
            double magnitude = exponent == 0 ? Math.scalb((double) mantissa, -24)
                    : Math.scalb((double) (1024 + mantissa), exponent - 25);
            double expected = (h & 0x8000) != 0 ? -magnitude : magnitude;
            assertThat(Double.compare(actual, expected)).as("%04x", h).isZero();
        }
    }

    @Test
    void writesAtomicallyReplacingAnExistingFileAndLeavingNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(new StateDict().put("old", Nd4j.createFromArray(1f)), file);
        Safetensors.write(new StateDict().put("new", Nd4j.createFromArray(2f)), Map.of("k", "v"), file);

        assertThat(Safetensors.read(file).keys()).containsExactly("new");
        assertThat(Safetensors.readMetadata(file)).containsEntry("k", "v");
        assertThat(listDir()).containsExactly("model.safetensors");
    }

    @Test
    void unsupportedTypeFailsBeforeTouchingTheTargetFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        Safetensors.write(new StateDict().put("old", Nd4j.createFromArray(1f)), file);
        StateDict half = new StateDict().put("h", Nd4j.createFromArray(1f).castTo(DataType.HALF));

        assertThatThrownBy(() -> Safetensors.write(half, file))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("tensor 'h'")
                .hasMessageContaining("HALF is not supported");
        assertThat(Safetensors.read(file).keys()).containsExactly("old");
        assertThat(listDir()).containsExactly("model.safetensors");
    }

    @Test
    void writingIntoAMissingDirectoryNamesIt() {
        Path file = dir.resolve("no/such/dir/model.safetensors");
        assertThatThrownBy(() -> Safetensors.write(new StateDict(), file))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("directory " + dir.resolve("no/such/dir") + " does not exist");
    }

    @Test
    void metadataKeyIsReservedWhenWriting() {
        StateDict sd = new StateDict().put("__metadata__", Nd4j.createFromArray(1f));
        assertThatThrownBy(() -> toBytes(sd)).isInstanceOf(PelaException.class).hasMessageContaining("reserves");
    }

    private List<String> listDir() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = new ArrayList<>();
            files.forEach(p -> names.add(p.getFileName().toString()));
            return names;
        }
    }

    private static float[] readHalfs(String dtype, short[] bits) {
        ByteBuffer data = le(bits.length * 2);
        for (short b : bits) {
            data.putShort(b);
        }
        String json = "{\"h\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + bits.length + "],\"data_offsets\":[0,"
                + bits.length * 2 + "]}}";
        byte[] bytes = file(json, data.array());
        INDArray a = Safetensors.read(new ByteArrayInputStream(bytes), bytes.length, "mem").get("h");
        assertThat(a.dataType()).isEqualTo(DataType.FLOAT);
        return a.toFloatVector();
    }

    private static JsonNode header(byte[] bytes) throws IOException {
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
    }

    /** -3, -2.75, ... : distinct values, so a transposed or shifted read cannot pass. */
    static float[] ramp(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = -3 + 0.25f * i;
        }
        return values;
    }

    static byte[] toBytes(StateDict sd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Safetensors.write(sd, out);
        return out.toByteArray();
    }

    static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A safetensors file from a header and data area, as a test wants them, valid or not. */
    static byte[] file(String json, byte[] data) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return le(8 + header.length + data.length).putLong(header.length).put(header).put(data).array();
    }

    /** A stream that cannot seek or mark, like a network stream, to show reads never go backwards. */
    private static final class OneWayStream extends ByteArrayInputStream {
        OneWayStream(byte[] bytes) {
            super(bytes);
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        @Override
        public synchronized void reset() {
            throw new UnsupportedOperationException("reset");
        }
    }
}
