package ai.pela.zoo.io;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads and writes single NumPy arrays in the
 * <a href="https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html">.npy format</a>.
 *
 * <p>Hand-written rather than a dependency: the format is a magic string, a length, a Python-literal header such as
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }} and the raw data, and owning the code keeps
 * every malformed input a one-line {@link PelaException} naming the file.
 *
 * <p>Reads format versions 1.0, 2.0 and 3.0 with dtypes {@code <f4 <f8 <i4 <i8 |u1 |b1} (FLOAT, DOUBLE, INT, LONG,
 * UBYTE, BOOL arrays). Fortran-order files are supported: the array comes back in C order with the same shape and
 * values. Big-endian, object and structured dtypes are rejected naming the dtype. Writes version 1.0 byte for byte as
 * {@code numpy.save} does. Format problems raise {@link PelaException}; I/O failures mid-stream raise
 * {@link UncheckedIOException}.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Version 1.0 headers are at most 65535 bytes by construction; later ones are capped, as real ones are tiny. */
    static final long MAX_HEADER_BYTES = 1 << 20;
    /** numpy pads the preamble so that the data starts on a 64-byte boundary (for mmap). */
    private static final int ARRAY_ALIGN = 64;
    /** numpy leaves room for the first axis to grow to this many digits so appends can rewrite the header in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    private static final Set<String> HEADER_KEYS = Set.of("descr", "fortran_order", "shape");

    private Npy() {
    }

    private enum Descr {
        F4("<f4", 4, DataType.FLOAT), F8("<f8", 8, DataType.DOUBLE), I4("<i4", 4, DataType.INT),
        I8("<i8", 8, DataType.LONG), U1("|u1", 1, DataType.UBYTE), B1("|b1", 1, DataType.BOOL);

        final String code;
        final int size;
        final DataType dataType;

        Descr(String code, int size, DataType dataType) {
            this.code = code;
            this.size = size;
            this.dataType = dataType;
        }
    }

    /** A validated header; {@code preambleBytes} counts everything before the data. */
    private record Header(Descr descr, boolean fortranOrder, long[] shape, int numel, long preambleBytes) {
        long dataBytes() {
            return (long) numel * descr.size;
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads a {@code .npy} file. */
    public static INDArray read(Path file) {
        long size = IoSupport.size(file);
        try (InputStream in = IoSupport.open(file)) {
            return read(in, size, file.toString());
        } catch (IOException e) {
            throw IoSupport.ioFailure(file.toString(), e);
        }
    }

    /**
     * Reads a {@code .npy} array from a stream whose length is unknown. The header is validated before the data array
     * is allocated, but a header claiming more data than the stream holds is only detected at its end; prefer
     * {@link #read(InputStream, long, String)} when the length is known. The stream is read to its end, not closed.
     *
     * @param source the file name, used in every error message
     */
    public static INDArray read(InputStream in, String source) {
        return read(in, -1, source);
    }

    /**
     * Reads a {@code .npy} array from a stream of {@code size} bytes, checking that the data fills the rest of the
     * stream exactly before allocating it. The stream is read to its end, not closed.
     *
     * @param size   the stream's length in bytes, or -1 if unknown
     * @param source the file name, used in every error message
     */
    public static INDArray read(InputStream in, long size, String source) {
        Header h = readHeader(in, size, source);
        if (size >= 0) {
            checkDataSize(h, size - h.preambleBytes(), source);
        }
        long[] stored = h.fortranOrder() ? reversed(h.shape()) : h.shape();
        INDArray a = readData(in, h, stored, source);
        checkAtEnd(in, h, source);
        return h.fortranOrder() ? toCOrder(a, h.shape()) : a;
    }

    private static Header readHeader(InputStream in, long size, String source) {
        byte[] magic = IoSupport.readExactly(in, MAGIC.length + 2, source, "the .npy magic string");
        if (!Arrays.equals(magic, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw IoSupport.fail(source, "not a .npy file: it does not start with the magic string \\x93NUMPY");
        }
        int major = magic[6] & 0xff;
        int minor = magic[7] & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw IoSupport.fail(source, "unsupported .npy format version " + major + "." + minor
                    + " (1.0, 2.0 and 3.0 are supported)");
        }
        int lengthBytes = major == 1 ? 2 : 4;
        long headerBytes = readHeaderLength(in, lengthBytes, source);
        long preamble = magic.length + lengthBytes + headerBytes;
        if (size >= 0 && preamble > size) {
            throw IoSupport.fail(source, "header length " + headerBytes + " runs past the end of the file (" + size
                    + " bytes)");
        }
        byte[] raw = IoSupport.readExactly(in, (int) headerBytes, source, "the header");
        // Versions 1 and 2 store the header as latin-1; version 3 exists only to allow UTF-8.
        String text = new String(raw, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return parseHeader(text, preamble, source);
    }

    private static long readHeaderLength(InputStream in, int lengthBytes, String source) {
        byte[] raw = Arrays.copyOf(IoSupport.readExactly(in, lengthBytes, source, "the header length"), 8);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(); // unsigned: zero-extended to 8 bytes
        if (n > MAX_HEADER_BYTES) {
            throw IoSupport.fail(source, "header of " + n + " bytes exceeds the 1 MB limit");
        }
        return n;
    }

    private static Header parseHeader(String text, long preamble, String source) {
        if (!(new PyLiteral(text, source).parse() instanceof Map<?, ?> dict)) {
            throw IoSupport.fail(source, "header is not a Python dict: " + abbreviate(text.strip()));
        }
        if (!dict.keySet().equals(HEADER_KEYS)) {
            throw IoSupport.fail(source, "header has keys " + dict.keySet()
                    + "; expected exactly descr, fortran_order and shape");
        }
        Descr descr = parseDescr(dict.get("descr"), source);
        if (!(dict.get("fortran_order") instanceof Boolean fortranOrder)) {
            throw IoSupport.fail(source, "header field 'fortran_order' is " + dict.get("fortran_order")
                    + ", not True or False");
        }
        long[] shape = parseShape(dict.get("shape"), source);
        return new Header(descr, fortranOrder, shape, checkedNumel(shape, source), preamble);
    }

    private static Descr parseDescr(Object value, String source) {
        for (Descr d : Descr.values()) {
            if (d.code.equals(value)) {
                return d;
            }
        }
        String shown = value instanceof String s ? "'" + abbreviate(s) + "'" : abbreviate(String.valueOf(value));
        String hint = value instanceof String s && s.startsWith(">") ? " (big-endian: save it little-endian)" : "";
        throw IoSupport.fail(source, "unsupported dtype descr " + shown + hint + "; supported: <f4, <f8, <i4, <i8,"
                + " |u1, |b1");
    }

    private static long[] parseShape(Object value, String source) {
        if (!(value instanceof List<?> dims) || dims.size() > 32) {
            throw IoSupport.fail(source, "header field 'shape' is " + abbreviate(String.valueOf(value))
                    + ", not a tuple of at most 32 integers");
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0) {
                throw IoSupport.fail(source, "header field 'shape' is " + abbreviate(String.valueOf(value))
                        + ", not a tuple of non-negative integers");
            }
            shape[i] = d;
        }
        return shape;
    }

    private static int checkedNumel(long[] shape, String source) {
        long numel = IoSupport.numel(shape);
        if (numel < 0 || numel > IoSupport.MAX_ELEMENTS) {
            throw IoSupport.fail(source, "shape " + Arrays.toString(shape) + " has "
                    + (numel < 0 ? "more than 2^63" : numel) + " elements; at most " + IoSupport.MAX_ELEMENTS
                    + " (the largest Java array) are supported");
        }
        return (int) numel;
    }

    private static void checkDataSize(Header h, long available, String source) {
        if (available < h.dataBytes()) {
            throw IoSupport.fail(source, "truncated: shape " + Arrays.toString(h.shape()) + " of " + h.descr().code
                    + " needs " + h.dataBytes() + " bytes of data but the file holds only " + available
                    + " after the header");
        }
        if (available > h.dataBytes()) {
            throw IoSupport.fail(source, (available - h.dataBytes()) + " trailing bytes after the " + h.dataBytes()
                    + " bytes of data");
        }
    }

    private static void checkAtEnd(InputStream in, Header h, String source) {
        try {
            if (in.read() != -1) {
                throw IoSupport.fail(source, "trailing bytes after the " + h.dataBytes() + " bytes of data");
            }
        } catch (IOException e) {
            throw IoSupport.ioFailure(source, e);
        }
    }

    private static INDArray readData(InputStream in, Header h, long[] shape, String source) {
        int n = h.numel();
        int size = h.descr().size;
        byte[] chunk = IoSupport.chunkFor(h.dataBytes());
        String what = "the array data";
        switch (h.descr()) {
            case F4 -> {
                float[] d = new float[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> le.asFloatBuffer().get(d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.FLOAT);
            }
            case F8 -> {
                double[] d = new double[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> le.asDoubleBuffer().get(d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.DOUBLE);
            }
            case I4 -> {
                int[] d = new int[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> le.asIntBuffer().get(d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.INT);
            }
            case I8 -> {
                long[] d = new long[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> le.asLongBuffer().get(d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.LONG);
            }
            case U1 -> {
                byte[] d = new byte[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> le.get(d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.UBYTE);
            }
            default -> {
                boolean[] d = new boolean[n];
                IoSupport.readElements(in, n, size, chunk,
                        (le, f, k) -> decodeBools(le, d, f, k), source, what);
                return Nd4j.create(d, shape, DataType.BOOL);
            }
        }
    }

    private static void decodeBools(ByteBuffer bytes, boolean[] dst, int first, int count) {
        for (int i = 0; i < count; i++) {
            dst[first + i] = bytes.get(i) != 0;
        }
    }

    /**
     * Fortran-order data of shape (a, b, c) is C-order data of shape (c, b, a); it was read as such, and reversing
     * the axes of that gives the array numpy means, which is then copied into C order.
     */
    private static INDArray toCOrder(INDArray reversedShape, long[] shape) {
        if (shape.length < 2) {
            return reversedShape;
        }
        if (reversedShape.length() == 0) {
            return Nd4j.create(reversedShape.dataType(), shape);
        }
        int[] axes = new int[shape.length];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = axes.length - 1 - i;
        }
        return reversedShape.permute(axes).dup('c');
    }

    private static long[] reversed(long[] shape) {
        long[] r = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            r[i] = shape[shape.length - 1 - i];
        }
        return r;
    }

    // ---------------------------------------------------------------- writing

    /** Writes {@code a} to {@code file} atomically: readers see the old file or the complete new one. */
    public static void write(INDArray a, Path file) {
        Descr descr = descrFor(a); // an unsupported type fails before a temporary file exists
        AtomicFile.write(file, out -> writeTo(a, descr, out));
    }

    /**
     * Writes {@code a} to a stream as format version 1.0, C order, byte for byte as {@code numpy.save}. The stream is
     * flushed, not closed.
     *
     * @throws PelaException        if the data type has no supported .npy descr (checked before writing)
     * @throws UncheckedIOException if the stream fails
     */
    public static void write(INDArray a, OutputStream out) {
        Descr descr = descrFor(a);
        try {
            writeTo(a, descr, out);
        } catch (IOException e) {
            throw new UncheckedIOException(".npy write failed: " + e.getMessage(), e);
        }
    }

    private static void writeTo(INDArray a, Descr descr, OutputStream out) throws IOException {
        out.write(preamble(descr, a.shape()));
        if (a.length() > 0) {
            writeData(out, IoSupport.denseC(a), descr);
        }
        out.flush();
    }

    private static Descr descrFor(INDArray a) {
        for (Descr d : Descr.values()) {
            if (d.dataType == a.dataType()) {
                return d;
            }
        }
        throw new PelaException("cannot write a " + a.dataType() + " array as .npy: supported data types are FLOAT,"
                + " DOUBLE, INT, LONG, UBYTE and BOOL; cast it first");
    }

    /** Magic, version 1.0, header length and the header dict, padded with spaces and a newline to 64 bytes. */
    private static byte[] preamble(Descr descr, long[] shape) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr.code)
                .append("', 'fortran_order': False, 'shape': ").append(pythonTuple(shape)).append(", }");
        if (shape.length > 0) {
            dict.append(" ".repeat(GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length()));
        }
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1; // magic, version, length, dict, newline
        dict.append(" ".repeat(ARRAY_ALIGN - unpadded % ARRAY_ALIGN)).append('\n');
        byte[] header = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).put(header).array();
    }

    /** Python's repr of a tuple: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
    private static String pythonTuple(long[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return s.append(shape.length == 1 ? ",)" : ")").toString();
    }

    private static void writeData(OutputStream out, INDArray a, Descr descr) throws IOException {
        long n = a.length();
        byte[] chunk = IoSupport.chunkFor(n * descr.size);
        switch (descr) {
            case F4 -> {
                float[] d = a.data().asFloat();
                IoSupport.writeElements(out, n, 4, chunk, (le, f, k) -> le.asFloatBuffer().put(d, f, k));
            }
            case F8 -> {
                double[] d = a.data().asDouble();
                IoSupport.writeElements(out, n, 8, chunk, (le, f, k) -> le.asDoubleBuffer().put(d, f, k));
            }
            case I4 -> {
                int[] d = a.data().asInt();
                IoSupport.writeElements(out, n, 4, chunk, (le, f, k) -> le.asIntBuffer().put(d, f, k));
            }
            case I8 -> {
                long[] d = a.data().asLong();
                IoSupport.writeElements(out, n, 8, chunk, (le, f, k) -> le.asLongBuffer().put(d, f, k));
            }
            default -> {
                // UBYTE and BOOL: asInt gives each element's value (0..255, or 0/1), one byte each on disk.
                int[] d = a.data().asInt();
                IoSupport.writeElements(out, n, 1, chunk, (le, f, k) -> encodeBytes(le, d, f, k));
            }
        }
    }

    private static void encodeBytes(ByteBuffer bytes, int[] src, int first, int count) {
        for (int i = 0; i < count; i++) {
            bytes.put(i, (byte) src[first + i]);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    /**
     * Parses the Python literals a .npy header holds: dicts, tuples and lists, quoted strings, integers (with an
     * optional Python 2 {@code L} suffix), True, False and None. Nesting is bounded so that a hostile header cannot
     * overflow the stack.
     */
    private static final class PyLiteral {
        private static final int MAX_DEPTH = 16;
        private final String text;
        private final String source;
        private int pos;

        PyLiteral(String text, String source) {
            this.text = text;
            this.source = source;
        }

        Object parse() {
            Object value = value(0);
            skipSpace();
            if (pos != text.length()) {
                throw error("unexpected text after the value");
            }
            return value;
        }

        private Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            skipSpace();
            char c = peek();
            if (c == '{') {
                return dict(depth);
            } else if (c == '(' || c == '[') {
                return sequence(c == '(' ? ')' : ']', depth);
            } else if (c == '\'' || c == '"') {
                return string();
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                return integer();
            }
            return word();
        }

        private Map<String, Object> dict(int depth) {
            Map<String, Object> map = new LinkedHashMap<>();
            elements('}', () -> {
                int keyAt = pos;
                if (!(value(depth + 1) instanceof String key)) {
                    pos = keyAt;
                    throw error("dict key is not a string");
                }
                skipSpace();
                expect(':');
                if (map.containsKey(key)) {
                    throw error("duplicate key '" + key + "'");
                }
                map.put(key, value(depth + 1));
            });
            return map;
        }

        private List<Object> sequence(char close, int depth) {
            List<Object> list = new ArrayList<>();
            elements(close, () -> list.add(value(depth + 1)));
            return list;
        }

        /** From an opening bracket to {@code close}: elements separated by commas, a trailing comma allowed. */
        private void elements(char close, Runnable element) {
            pos++;
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return;
                }
                element.run();
                skipSpace();
                if (peek() != ',') {
                    expect(close);
                    return;
                }
                pos++;
            }
        }

        private String string() {
            char quote = text.charAt(pos++);
            StringBuilder s = new StringBuilder();
            while (pos < text.length() && text.charAt(pos) != quote) {
                char c = text.charAt(pos++);
                // Only the escapes a dtype string could contain matter; any escaped character is taken literally.
                s.append(c == '\\' && pos < text.length() ? text.charAt(pos++) : c);
            }
            expect(quote);
            return s.toString();
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                pos++;
            }
            String digits = text.substring(start, pos);
            if (peek() == 'L' || peek() == 'l') {
                pos++;
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                pos = start;
                throw error("bad integer '" + abbreviate(digits) + "'");
            }
        }

        private Object word() {
            int start = pos;
            while (pos < text.length() && Character.isLetter(text.charAt(pos))) {
                pos++;
            }
            return switch (text.substring(start, pos)) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                case "None" -> null;
                default -> {
                    pos = start;
                    throw error(pos < text.length() ? "unexpected '" + text.charAt(pos) + "'" : "unexpected end");
                }
            };
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error(pos < text.length() ? "expected '" + c + "' but found '" + text.charAt(pos) + "'"
                        : "expected '" + c + "' but the header ended");
            }
            pos++;
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void skipSpace() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
                pos++;
            }
        }

        private PelaException error(String problem) {
            return IoSupport.fail(source, "malformed .npy header (" + problem + " at character " + pos + "): "
                    + abbreviate(text.strip()));
        }
    }
}
