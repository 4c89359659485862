package ai.pela.zoo.io;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes <a href="https://github.com/huggingface/safetensors">safetensors</a> checkpoints, the format timm
 * and Hugging Face publish weights in.
 *
 * <p>Hand-written rather than a dependency: the format is about 30 lines of specification, and owning the code keeps
 * reads streaming (no seek, no mmap, so a Hadoop {@code FSDataInputStream} works) and turns every malformed input
 * into a one-line {@link PelaException} naming the file.
 *
 * <p>Layout: an 8-byte little-endian unsigned header length {@code n}; {@code n} bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, plus an optional
 * string-to-string {@code "__metadata__"} object; then the data area (offsets relative to its start), values
 * little-endian in C order.
 *
 * <p>Reading: F32 becomes FLOAT; F16 and BF16 are widened and F64 narrowed to FLOAT, because models compute in FLOAT;
 * I64 becomes LONG and I32 INT. Writing: FLOAT as F32, DOUBLE as F64, LONG as I64, INT as I32. Tensors come back in
 * header order. Every size in the header is checked against the file size before anything large is allocated.
 *
 * <p>Format problems raise {@link PelaException}; an I/O failure in the middle of a stream raises
 * {@link UncheckedIOException}.
 */
public final class Safetensors {
    /** Same limit as the reference implementation: real headers are kilobytes, so more means a corrupt file. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Headers are two levels deep; the limit turns hostile nesting into a parse error instead of a deep recursion. */
    private static final int MAX_JSON_DEPTH = 64;
    /** ND4J's maximum rank. */
    private static final int MAX_RANK = 32;
    private static final String METADATA = "__metadata__";
    private static final ObjectMapper JSON = jsonMapper();

    private Safetensors() {
    }

    private enum Dtype {
        F32(4, DataType.FLOAT), F16(2, DataType.FLOAT), BF16(2, DataType.FLOAT), F64(8, DataType.FLOAT),
        I64(8, DataType.LONG), I32(4, DataType.INT);

        final int size;
        final DataType readsAs;

        Dtype(int size, DataType readsAs) {
            this.size = size;
            this.readsAs = readsAs;
        }
    }

    /** One validated header entry; {@code [begin, end)} is relative to the data area. */
    private record Entry(String key, Dtype dtype, long[] shape, int numel, long begin, long end) {
        long bytes() {
            return end - begin;
        }

        String describe() {
            return "'" + abbreviate(key) + "' [" + begin + ", " + end + ")";
        }
    }

    private record Header(List<Entry> entries, Map<String, String> metadata) {
    }

    /** A tensor about to be written, with its place in the data area. */
    private record Planned(String key, INDArray array, Dtype dtype, long begin, long end) {
    }

    // ---------------------------------------------------------------- reading

    /** Reads a whole checkpoint file. */
    public static StateDict read(Path file) {
        long size = IoSupport.size(file);
        try (InputStream in = IoSupport.open(file)) {
            return read(in, size, file.toString());
        } catch (IOException e) {
            throw IoSupport.ioFailure(file.toString(), e);
        }
    }

    /**
     * Reads a checkpoint from a stream positioned at its first byte, without seeking: tensors are read in data-offset
     * order and gaps between them skipped. The stream is not closed.
     *
     * @param fileSize the stream's total length in bytes; header sizes are validated against it before allocating
     * @param source   the file name, used in every error message
     */
    public static StateDict read(InputStream in, long fileSize, String source) {
        Header header = readHeader(in, fileSize, source);
        return readTensors(in, header, source);
    }

    /** The {@code __metadata__} strings of a checkpoint file (empty if it has none), reading only its header. */
    public static Map<String, String> readMetadata(Path file) {
        long size = IoSupport.size(file);
        try (InputStream in = IoSupport.open(file)) {
            return readMetadata(in, size, file.toString());
        } catch (IOException e) {
            throw IoSupport.ioFailure(file.toString(), e);
        }
    }

    /** Like {@link #readMetadata(Path)}, from a stream as in {@link #read(InputStream, long, String)}. */
    public static Map<String, String> readMetadata(InputStream in, long fileSize, String source) {
        return readHeader(in, fileSize, source).metadata();
    }

    private static Header readHeader(InputStream in, long fileSize, String source) {
        long n = readHeaderLength(in, fileSize, source);
        byte[] json = IoSupport.readExactly(in, (int) n, source, "the header");
        return parseHeader(parseJson(json, source), fileSize - 8 - n, source);
    }

    /** The header length, checked against the limit and the file size so that it is safe to allocate. */
    private static long readHeaderLength(InputStream in, long fileSize, String source) {
        if (fileSize < 8) {
            throw IoSupport.fail(source, "file of " + fileSize
                    + " bytes is too short to be safetensors (the header length alone takes 8 bytes)");
        }
        byte[] raw = IoSupport.readExactly(in, 8, source, "the header length");
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // Unsigned compare: a length with the top bit set is a huge unsigned number, not a negative one.
        if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
            throw IoSupport.fail(source, "header of " + Long.toUnsignedString(n) + " bytes exceeds the 100 MB limit");
        }
        if (n > fileSize - 8) {
            throw IoSupport.fail(source, "header length " + n + " runs past the end of the file (" + fileSize
                    + " bytes)");
        }
        return n;
    }

    private static JsonNode parseJson(byte[] json, String source) {
        try (JsonParser parser = JSON.createParser(json)) {
            JsonNode root = JSON.readTree(parser);
            if (root == null || !root.isObject()) {
                throw IoSupport.fail(source, "header is not a JSON object");
            }
            if (parser.nextToken() != null) {
                throw IoSupport.fail(source, "header has more JSON after its object, at byte "
                        + parser.currentTokenLocation().getByteOffset());
            }
            return root;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at byte " + e.getLocation().getByteOffset();
            throw IoSupport.fail(source, "header is not valid JSON" + where + ": "
                    + e.getOriginalMessage().replace('\n', ' '));
        } catch (IOException e) {
            throw IoSupport.ioFailure(source, e); // cannot happen for a byte array; kept for the compiler
        }
    }

    private static Header parseHeader(JsonNode root, long dataSize, String source) {
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA)) {
                metadata = parseMetadata(field.getValue(), source);
            } else {
                entries.add(parseEntry(field.getKey(), field.getValue(), dataSize, source));
            }
        }
        checkNoOverlap(entries, source);
        return new Header(entries, metadata);
    }

    private static Map<String, String> parseMetadata(JsonNode node, String source) {
        if (!node.isObject()) {
            throw IoSupport.fail(source, METADATA + " is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getValue().isTextual()) {
                throw IoSupport.fail(source, METADATA + " value for '" + field.getKey() + "' is not a string");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry parseEntry(String key, JsonNode node, long dataSize, String source) {
        String what = "tensor '" + abbreviate(key) + "'";
        if (!node.isObject()) {
            throw IoSupport.fail(source, what + " is not a JSON object");
        }
        Dtype dtype = parseDtype(what, node.get("dtype"), source);
        long[] shape = parseNaturals(what, "shape", node.get("shape"), source);
        long[] offsets = parseNaturals(what, "data_offsets", node.get("data_offsets"), source);
        if (shape.length > MAX_RANK) {
            throw IoSupport.fail(source, what + " has rank " + shape.length + "; at most " + MAX_RANK
                    + " is supported");
        }
        int numel = checkedNumel(what, shape, source);
        checkOffsets(what, offsets, (long) numel * dtype.size, dataSize, source);
        return new Entry(key, dtype, shape, numel, offsets[0], offsets[1]);
    }

    private static Dtype parseDtype(String what, JsonNode node, String source) {
        if (node == null || !node.isTextual()) {
            throw IoSupport.fail(source, what + " has no \"dtype\" string");
        }
        try {
            return Dtype.valueOf(node.textValue());
        } catch (IllegalArgumentException e) {
            throw IoSupport.fail(source, what + " has dtype '" + abbreviate(node.textValue())
                    + "', which is not supported (supported: F32, F16, BF16, F64, I64, I32)");
        }
    }

    /** A JSON list of non-negative integers that fit a long. */
    private static long[] parseNaturals(String what, String field, JsonNode node, String source) {
        if (node == null || !node.isArray()) {
            throw IoSupport.fail(source, what + " has no \"" + field + "\" list");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw IoSupport.fail(source, what + " has " + field + " " + abbreviate(node.toString())
                        + ", which is not a list of non-negative integers");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static int checkedNumel(String what, long[] shape, String source) {
        long numel = IoSupport.numel(shape);
        if (numel < 0 || numel > IoSupport.MAX_ELEMENTS) {
            throw IoSupport.fail(source, what + " has shape " + Arrays.toString(shape) + " with "
                    + (numel < 0 ? "more than 2^63" : numel) + " elements; at most " + IoSupport.MAX_ELEMENTS
                    + " (the largest Java array) are supported");
        }
        return (int) numel;
    }

    private static void checkOffsets(String what, long[] offsets, long needed, long dataSize, String source) {
        if (offsets.length != 2 || offsets[0] > offsets[1]) {
            throw IoSupport.fail(source, what + " has data_offsets " + abbreviate(Arrays.toString(offsets))
                    + "; expected [begin, end] with begin <= end");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end - begin != needed) {
            throw IoSupport.fail(source, what + " has data_offsets [" + begin + ", " + end + "] spanning "
                    + (end - begin) + " bytes but its dtype and shape need " + needed + " bytes");
        }
        if (end > dataSize) {
            throw IoSupport.fail(source, "truncated: " + what + " needs bytes [" + begin + ", " + end
                    + ") of the data area but the file holds only " + dataSize);
        }
    }

    private static void checkNoOverlap(List<Entry> entries, String source) {
        // Sorted by begin, any overlap shows up between neighbours (empty tensors occupy nothing and are left out).
        List<Entry> sorted = nonEmptyByOffset(entries);
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1);
            Entry cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw IoSupport.fail(source, "tensors " + prev.describe() + " and " + cur.describe()
                        + " overlap in the data area");
            }
        }
    }

    private static List<Entry> nonEmptyByOffset(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>();
        for (Entry e : entries) {
            if (e.bytes() > 0) {
                sorted.add(e);
            }
        }
        sorted.sort(Comparator.comparingLong(Entry::begin));
        return sorted;
    }

    private static StateDict readTensors(InputStream in, Header header, String source) {
        List<Entry> byOffset = nonEmptyByOffset(header.entries());
        byte[] chunk = IoSupport.chunkFor(byOffset.stream().mapToLong(Entry::bytes).max().orElse(0));
        Map<String, INDArray> arrays = new HashMap<>();
        long position = 0;
        for (Entry e : byOffset) {
            String gap = "the gap before tensor '" + abbreviate(e.key()) + "'";
            IoSupport.skipExactly(in, e.begin() - position, source, gap);
            arrays.put(e.key(), readTensor(in, e, chunk, source));
            position = e.end();
        }
        StateDict sd = new StateDict();
        for (Entry e : header.entries()) {
            INDArray a = arrays.get(e.key());
            sd.put(e.key(), a != null ? a : Nd4j.create(e.dtype().readsAs, e.shape())); // empty tensor
        }
        return sd;
    }

    private static INDArray readTensor(InputStream in, Entry e, byte[] chunk, String source) {
        String what = "tensor '" + abbreviate(e.key()) + "'";
        int size = e.dtype().size;
        switch (e.dtype()) {
            case I64 -> {
                long[] data = new long[e.numel()];
                IoSupport.readElements(in, e.numel(), size, chunk,
                        (le, first, n) -> le.asLongBuffer().get(data, first, n), source, what);
                return Nd4j.create(data, e.shape(), DataType.LONG);
            }
            case I32 -> {
                int[] data = new int[e.numel()];
                IoSupport.readElements(in, e.numel(), size, chunk,
                        (le, first, n) -> le.asIntBuffer().get(data, first, n), source, what);
                return Nd4j.create(data, e.shape(), DataType.INT);
            }
            default -> {
                float[] data = new float[e.numel()];
                IoSupport.readElements(in, e.numel(), size, chunk,
                        (le, first, n) -> decodeFloats(e.dtype(), le, data, first, n), source, what);
                return Nd4j.create(data, e.shape(), DataType.FLOAT);
            }
        }
    }

    private static void decodeFloats(Dtype dtype, ByteBuffer le, float[] dst, int first, int n) {
        switch (dtype) {
            case F32 -> le.asFloatBuffer().get(dst, first, n);
            case F64 -> {
                DoubleBuffer b = le.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    dst[first + i] = (float) b.get(i);
                }
            }
            case F16 -> {
                ShortBuffer b = le.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst[first + i] = halfToFloat(b.get(i));
                }
            }
            case BF16 -> {
                ShortBuffer b = le.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst[first + i] = bfloat16ToFloat(b.get(i));
                }
            }
            default -> throw new IllegalStateException(dtype + " is not a floating-point dtype");
        }
    }

    /** bfloat16 is the top half of a float32, so widening is a shift. */
    static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * IEEE 754 binary16 to float32, exact for every input (Java 17 has no {@code Float.float16ToFloat}).
     * Layout: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
     */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            // Infinity or NaN: all-ones float exponent; the NaN payload moves to the top of the float mantissa.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: value = mantissa * 2^-24, exactly representable as a float.
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // Normal: re-bias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    // ---------------------------------------------------------------- writing

    /** Writes {@code sd} to {@code file} atomically, without metadata. */
    public static void write(StateDict sd, Path file) {
        write(sd, Map.of(), file);
    }

    /**
     * Writes {@code sd} and {@code metadata} to {@code file} atomically: readers never see a partially written file,
     * and an existing file is replaced only once the new one is complete.
     */
    public static void write(StateDict sd, Map<String, String> metadata, Path file) {
        List<Planned> plan = plan(sd, metadata); // unsupported types fail before a temporary file exists
        AtomicFile.write(file, out -> writeTo(plan, metadata, out));
    }

    /** Writes {@code sd} to a stream, without metadata. The stream is flushed, not closed. */
    public static void write(StateDict sd, OutputStream out) {
        write(sd, Map.of(), out);
    }

    /**
     * Writes {@code sd} and {@code metadata} to a stream: keys and data in the state dict's order, the header padded
     * with spaces to a multiple of 8 bytes as the reference implementation does. The stream is flushed, not closed.
     *
     * @throws PelaException        if a tensor's data type cannot be written (checked before any byte is written)
     * @throws UncheckedIOException if the stream fails
     */
    public static void write(StateDict sd, Map<String, String> metadata, OutputStream out) {
        List<Planned> plan = plan(sd, metadata);
        try {
            writeTo(plan, metadata, out);
        } catch (IOException e) {
            throw new UncheckedIOException("safetensors write failed: " + e.getMessage(), e);
        }
    }

    private static void writeTo(List<Planned> plan, Map<String, String> metadata, OutputStream out)
            throws IOException {
        byte[] header = headerBytes(plan, metadata);
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        out.write(header);
        byte[] chunk = IoSupport.chunkFor(plan.stream().mapToLong(p -> p.end() - p.begin()).max().orElse(0));
        for (Planned p : plan) {
            writeTensor(out, p, chunk);
        }
        out.flush();
    }

    /** Assigns each tensor its dtype and data offsets, rejecting what cannot be written. */
    private static List<Planned> plan(StateDict sd, Map<String, String> metadata) {
        metadata.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException("safetensors metadata keys and values must not be null");
            }
        });
        List<Planned> plan = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, INDArray> e : sd.asMap().entrySet()) {
            if (e.getKey().equals(METADATA)) {
                throw new PelaException("cannot write a tensor named '" + METADATA
                        + "': safetensors reserves that name");
            }
            INDArray a = e.getValue();
            Dtype dtype = writeDtype(e.getKey(), a);
            long bytes = a.length() * dtype.size;
            plan.add(new Planned(e.getKey(), a, dtype, offset, offset + bytes));
            offset += bytes;
        }
        return plan;
    }

    private static Dtype writeDtype(String key, INDArray a) {
        if (a.length() > IoSupport.MAX_ELEMENTS) {
            throw new PelaException("cannot write tensor '" + key + "': " + a.length() + " elements exceed the "
                    + IoSupport.MAX_ELEMENTS + " a Java array can hold");
        }
        return switch (a.dataType()) {
            case FLOAT -> Dtype.F32;
            case DOUBLE -> Dtype.F64;
            case LONG -> Dtype.I64;
            case INT -> Dtype.I32;
            default -> throw new PelaException("cannot write tensor '" + key + "' as safetensors: data type "
                    + a.dataType() + " is not supported (FLOAT, DOUBLE, LONG and INT are); cast it first");
        };
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so the data area stays aligned. */
    private static byte[] headerBytes(List<Planned> plan, Map<String, String> metadata)
            throws JsonProcessingException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA);
            metadata.forEach(meta::put);
        }
        for (Planned p : plan) {
            ObjectNode t = root.putObject(p.key());
            t.put("dtype", p.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : p.array().shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(p.begin()).add(p.end());
        }
        byte[] json = JSON.writeValueAsBytes(root);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeTensor(OutputStream out, Planned p, byte[] chunk) throws IOException {
        if (p.array().length() == 0) {
            return;
        }
        INDArray a = IoSupport.denseC(p.array());
        long n = a.length();
        int size = p.dtype().size;
        switch (p.dtype()) {
            case F32 -> {
                float[] d = a.data().asFloat();
                IoSupport.writeElements(out, n, size, chunk, (le, first, k) -> le.asFloatBuffer().put(d, first, k));
            }
            case F64 -> {
                double[] d = a.data().asDouble();
                IoSupport.writeElements(out, n, size, chunk, (le, first, k) -> le.asDoubleBuffer().put(d, first, k));
            }
            case I64 -> {
                long[] d = a.data().asLong();
                IoSupport.writeElements(out, n, size, chunk, (le, first, k) -> le.asLongBuffer().put(d, first, k));
            }
            case I32 -> {
                int[] d = a.data().asInt();
                IoSupport.writeElements(out, n, size, chunk, (le, first, k) -> le.asIntBuffer().put(d, first, k));
            }
            default -> throw new IllegalStateException(p.dtype() + " is never chosen for writing");
        }
    }

    private static ObjectMapper jsonMapper() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_JSON_DEPTH).build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        return new ObjectMapper(factory);
    }

    /** Keeps a value quoted from a (possibly hostile, up to 100 MB) header short enough for a one-line message. */
    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
