package ai.pela.zoo.io;

import static ai.pela.zoo.io.SafetensorsTest.file;
import static ai.pela.zoo.io.SafetensorsTest.le;
import static ai.pela.zoo.io.SafetensorsTest.toBytes;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** Every malformed safetensors input fails with a one-line {@link PelaException} naming the file and the problem. */
class SafetensorsMalformedTest {
    @TempDir
    Path dir;

    @Test
    void fileShorterThanTheHeaderLength() {
        assertFails(new byte[] {1, 2, 3}).hasMessageContaining("file of 3 bytes is too short");
    }

    @Test
    void headerLengthBeyondTheFile() {
        byte[] bytes = le(20).putLong(100).array();
        assertFails(bytes).hasMessageContaining("header length 100 runs past the end of the file (20 bytes)");
    }

    @Test
    void headerLengthOf2To40IsRejectedWithoutAllocating() {
        byte[] bytes = le(16).putLong(1L << 40).array();
        assertFails(bytes).hasMessageContaining("header of 1099511627776 bytes exceeds the 100 MB limit");
    }

    @Test
    void headerLengthWithTheTopBitSetIsHugeNotNegative() {
        byte[] bytes = le(16).putLong(-1L).array();
        assertFails(bytes).hasMessageContaining("header of 18446744073709551615 bytes exceeds the 100 MB limit");
    }

    @Test
    void headerOver100MbInALargeSparseFile() throws IOException {
        Path file = dir.resolve("huge.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(150L << 20); // sparse: costs no disk
            raf.write(le(8).putLong(120L << 20).array());
        }
        assertThatThrownBy(() -> Safetensors.read(file))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith(file.toString() + ": ")
                .hasMessageContaining("header of 125829120 bytes exceeds the 100 MB limit");
    }

    @Test
    void headerThatIsNotJson() {
        assertFails(file("{\"w\": {\"dtype\": ", new byte[0])).hasMessageContaining("header is not valid JSON");
    }

    @Test
    void headerWithTrailingGarbage() {
        assertFails(file("{} {}", new byte[0]))
                .hasMessageContaining("header has more JSON after its object, at byte 3");
        assertFails(file("{} x", new byte[0])).hasMessageContaining("header is not valid JSON at byte");
    }

    @Test
    void headerThatIsNotAnObject() {
        assertFails(file("[1, 2]", new byte[0])).hasMessageContaining("header is not a JSON object");
    }

    @Test
    void deeplyNestedHeaderFailsCleanly() {
        assertFails(file("[".repeat(10_000), new byte[0]))
                .hasMessageContaining("header is not valid JSON")
                .hasMessageContaining("nesting depth");
    }

    @Test
    void duplicateTensorNames() {
        String json = "{\"w\":" + f32(1, 0) + ",\"w\":" + f32(1, 4) + "}";
        assertFails(file(json, new byte[8])).hasMessageContaining("Duplicate field 'w'");
    }

    @Test
    void unknownDtype() {
        String json = "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}";
        assertFails(file(json, new byte[2]))
                .hasMessageContaining("tensor 'w' has dtype 'F8_E4M3', which is not supported");
    }

    @Test
    void missingDtype() {
        String json = "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertFails(file(json, new byte[8])).hasMessageContaining("tensor 'w' has no \"dtype\" string");
    }

    @Test
    void negativeOrFractionalShape() {
        String negative = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}";
        String fractional = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}";
        assertFails(file(negative, new byte[8])).hasMessageContaining("not a list of non-negative integers");
        assertFails(file(fractional, new byte[8])).hasMessageContaining("not a list of non-negative integers");
    }

    @Test
    void byteCountDoesNotMatchShape() {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}";
        assertFails(file(json, new byte[24]))
                .hasMessageContaining("tensor 'w' has data_offsets [0, 20] spanning 20 bytes")
                .hasMessageContaining("need 24 bytes");
    }

    @Test
    void offsetsWithBeginAfterEnd() {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}";
        assertFails(file(json, new byte[8])).hasMessageContaining("expected [begin, end] with begin <= end");
    }

    @Test
    void tensorTooLargeForAJavaArray() {
        String json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,17179869184]}}";
        assertFails(file(json, new byte[0])).hasMessageContaining("4294967296 elements; at most 2147483639");
    }

    @Test
    void offsetsBeyondTheDataAreaOfATruncatedFile() {
        byte[] whole = toBytes(new StateDict()
                .put("a", Nd4j.createFromArray(1f, 2f))
                .put("b", Nd4j.createFromArray(3f, 4f)));
        byte[] cut = Arrays.copyOf(whole, whole.length - 3);
        assertFails(cut).hasMessageContaining(
                "truncated: tensor 'b' needs bytes [8, 16) of the data area but the file holds only 13");
    }

    @Test
    void streamEndingBeforeTheSizeItWasSaidToHave() {
        byte[] whole = toBytes(new StateDict().put("a", Nd4j.createFromArray(1f, 2f, 3f)));
        byte[] cut = Arrays.copyOf(whole, whole.length - 5);
        assertThatThrownBy(() -> Safetensors.read(new ByteArrayInputStream(cut), whole.length, "stream.safetensors"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("stream.safetensors: truncated")
                .hasMessageContaining("tensor 'a'");
    }

    @Test
    void overlappingTensors() {
        String json = "{\"a\":" + f32(4, 0) + ",\"b\":" + f32(4, 8) + "}";
        assertFails(file(json, new byte[24]))
                .hasMessageContaining("tensors 'a' [0, 16) and 'b' [8, 24) overlap in the data area");
    }

    @Test
    void metadataValueThatIsNotAString() {
        assertFails(file("{\"__metadata__\":{\"epoch\":3}}", new byte[0]))
                .hasMessageContaining("__metadata__ value for 'epoch' is not a string");
    }

    @Test
    void missingFile() {
        Path missing = dir.resolve("nope.safetensors");
        assertThatThrownBy(() -> Safetensors.read(missing))
                .isInstanceOf(PelaException.class)
                .hasMessage(missing + ": no such file");
    }

    @Test
    void errorsFromAFileNameIt() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        Files.write(file, file("[]", new byte[0]));
        assertThatThrownBy(() -> Safetensors.read(file))
                .isInstanceOf(PelaException.class)
                .hasMessage(file + ": header is not a JSON object");
    }

    /** An F32 entry of {@code n} elements starting at byte {@code begin} of the data area. */
    private static String f32(int n, int begin) {
        return "{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[" + begin + "," + (begin + 4 * n) + "]}";
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertFails(byte[] bytes) {
        return assertThatThrownBy(() -> Safetensors.read(new ByteArrayInputStream(bytes), bytes.length, "x.st"))
                .isInstanceOf(PelaException.class)
                .hasMessageStartingWith("x.st: ")
                .hasMessageNotContaining("\n");
    }
}
