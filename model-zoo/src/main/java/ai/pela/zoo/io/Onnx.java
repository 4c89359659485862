package ai.pela.zoo.io;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The weights and the node list of an ONNX model, read with a small hand-written protobuf reader.
 *
 * <p>Why not {@code samediff-import-onnx}: it brings the Kotlin runtime, the ONNX protobuf classes and the whole
 * SameDiff import framework (tens of MB on every executor's class path) to read about a hundred tensors, and its
 * import builds its own graph with ONNX's node names, while this project builds graphs whose variables are the
 * checkpoint keys. Reading the initializers is all that is needed, and the wire format is small: varints,
 * length-delimited fields, fixed 32/64-bit fields. Only the fields used here are decoded (onnx.proto field
 * numbers): ModelProto.graph (7); GraphProto.node (1), initializer (5); NodeProto.input (1), output (2), name (3),
 * op_type (4); TensorProto.dims (1), data_type (2), float_data (4), int64_data (7), name (8), raw_data (9),
 * data_location (14). Every other field is skipped by its wire type.
 */
public final class Onnx {
    /** TensorProto.DataType values read here. */
    private static final int FLOAT = 1;
    private static final int INT64 = 7;
    /** TensorProto.DataLocation.EXTERNAL: the data lives in another file, which this reader does not follow. */
    private static final int EXTERNAL = 1;
    /** The largest model file read into memory (protobuf itself caps a message at 2 GiB). */
    private static final int MAX_BYTES = Integer.MAX_VALUE - 8;

    /** One graph node: its operator and the names of its inputs and outputs. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs) {
    }

    /** The initializers by name (FLOAT as float32, INT64 as int64; file order) and the nodes in graph order. */
    public record Graph(Map<String, INDArray> initializers, List<Node> nodes) {
    }

    private Onnx() {
    }

    public static Graph read(InputStream in, String source) {
        byte[] bytes;
        try {
            bytes = in.readNBytes(MAX_BYTES);
            if (in.read() != -1) {
                throw new PelaException(source + ": larger than 2 GiB, not a single-file ONNX model");
            }
        } catch (IOException e) {
            throw new PelaException(source + ": read failed: " + e.getMessage(), e);
        }
        return parse(bytes, source);
    }

    static Graph parse(byte[] bytes, String source) {
        Reader model = new Reader(bytes, 0, bytes.length, source, "ModelProto");
        Reader graph = null;
        while (model.more()) {
            int tag = model.tag();
            if (tag >>> 3 == 7 && (tag & 7) == 2) {
                graph = model.message("GraphProto");
            } else {
                model.skip(tag);
            }
        }
        if (graph == null) {
            throw new PelaException(source + ": no graph (not an ONNX model?)");
        }
        Map<String, INDArray> initializers = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        while (graph.more()) {
            int tag = graph.tag();
            if (tag >>> 3 == 1 && (tag & 7) == 2) {
                nodes.add(node(graph.message("NodeProto")));
            } else if (tag >>> 3 == 5 && (tag & 7) == 2) {
                tensor(graph.message("TensorProto"), initializers, source);
            } else {
                graph.skip(tag);
            }
        }
        return new Graph(initializers, nodes);
    }

    private static Node node(Reader r) {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String op = "";
        while (r.more()) {
            int tag = r.tag();
            switch (tag) {
                case (1 << 3) | 2 -> inputs.add(r.string());
                case (2 << 3) | 2 -> outputs.add(r.string());
                case (3 << 3) | 2 -> name = r.string();
                case (4 << 3) | 2 -> op = r.string();
                default -> r.skip(tag);
            }
        }
        return new Node(name, op, List.copyOf(inputs), List.copyOf(outputs));
    }

    private static void tensor(Reader r, Map<String, INDArray> out, String source) {
        List<Long> dims = new ArrayList<>();
        int type = 0;
        int location = 0;
        String name = null;
        ByteBuffer raw = null;
        List<Float> floats = new ArrayList<>();
        List<Long> longs = new ArrayList<>();
        while (r.more()) {
            int tag = r.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1) {
                r.varints(wire, dims);
            } else if (field == 2 && wire == 0) {
                type = (int) r.varint();
            } else if (field == 4) {
                r.fixed32Floats(wire, floats);
            } else if (field == 7) {
                r.varints(wire, longs);
            } else if (field == 8 && wire == 2) {
                name = r.string();
            } else if (field == 9 && wire == 2) {
                raw = r.bytes();
            } else if (field == 14 && wire == 0) {
                location = (int) r.varint();
            } else {
                r.skip(tag);
            }
        }
        String what = source + ": initializer '" + name + "'";
        if (name == null) {
            throw new PelaException(source + ": an initializer without a name");
        }
        if (location == EXTERNAL) {
            throw new PelaException(what + " keeps its data in an external file, which is not supported");
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new PelaException(what + " has a negative dimension " + d);
            }
            count = Math.multiplyExact(count, d);
        }
        out.put(name, array(type, shape, count, raw, floats, longs, what));
    }

    private static INDArray array(int type, long[] shape, long count, ByteBuffer raw, List<Float> floats,
            List<Long> longs, String what) {
        if (type == FLOAT) {
            float[] v = new float[checkCount(count, raw, 4, floats.size(), what)];
            if (raw != null) {
                raw.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            } else {
                for (int i = 0; i < v.length; i++) {
                    v[i] = floats.get(i);
                }
            }
            return Nd4j.create(v, shape, DataType.FLOAT);
        }
        if (type == INT64) {
            long[] v = new long[checkCount(count, raw, 8, longs.size(), what)];
            if (raw != null) {
                raw.order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
            } else {
                for (int i = 0; i < v.length; i++) {
                    v[i] = longs.get(i);
                }
            }
            return Nd4j.createFromArray(v).reshape(shape);
        }
        throw new PelaException(what + " has ONNX data type " + type + "; only FLOAT (1) and INT64 (7) are read");
    }

    private static int checkCount(long count, ByteBuffer raw, int width, int listed, String what) {
        long present = raw != null ? raw.remaining() / width : listed;
        if (raw != null && raw.remaining() % width != 0 || present != count) {
            throw new PelaException(what + ": its shape holds " + count + " values but the data has "
                    + (raw != null ? raw.remaining() + " bytes" : listed + " values"));
        }
        return (int) count;
    }

    /** A cursor over one protobuf message: bytes [pos, end) of the file. Every read is bounds-checked. */
    private static final class Reader {
        private final byte[] b;
        private final String source;
        private final String message;
        private int pos;
        private final int end;

        Reader(byte[] b, int from, int end, String source, String message) {
            this.b = b;
            this.pos = from;
            this.end = end;
            this.source = source;
            this.message = message;
        }

        boolean more() {
            return pos < end;
        }

        int tag() {
            long t = varint();
            if (t <= 0 || t > Integer.MAX_VALUE) {
                throw corrupt("bad field tag " + t);
            }
            return (int) t;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw corrupt("truncated varint");
                }
                byte x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return v;
                }
            }
            throw corrupt("varint longer than 10 bytes");
        }

        private int length() {
            long n = varint();
            if (n < 0 || n > end - pos) {
                throw corrupt("a field of " + n + " bytes runs past the end of its " + message + " (" + (end - pos)
                        + " bytes left)");
            }
            return (int) n;
        }

        Reader message(String name) {
            int n = length();
            Reader r = new Reader(b, pos, pos + n, source, name);
            pos += n;
            return r;
        }

        String string() {
            int n = length();
            String s = new String(b, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        ByteBuffer bytes() {
            int n = length();
            ByteBuffer buf = ByteBuffer.wrap(b, pos, n).slice();
            pos += n;
            return buf;
        }

        /** A repeated int64 field, packed (wire type 2) or one value per tag (wire type 0). */
        void varints(int wire, List<Long> out) {
            if (wire == 0) {
                out.add(varint());
            } else if (wire == 2) {
                int stop = pos + length();
                Reader packed = new Reader(b, pos, stop, source, message);
                while (packed.more()) {
                    out.add(packed.varint());
                }
                pos = stop;
            } else {
                throw corrupt("wire type " + wire + " for an integer field");
            }
        }

        /** A repeated float field, packed (wire type 2) or one value per tag (wire type 5). */
        void fixed32Floats(int wire, List<Float> out) {
            if (wire == 5) {
                out.add(Float.intBitsToFloat(fixed32()));
            } else if (wire == 2) {
                int n = length();
                if (n % 4 != 0) {
                    throw corrupt("packed floats of " + n + " bytes");
                }
                for (int stop = pos + n; pos < stop;) {
                    out.add(Float.intBitsToFloat(fixed32()));
                }
            } else {
                throw corrupt("wire type " + wire + " for a float field");
            }
        }

        private int fixed32() {
            if (end - pos < 4) {
                throw corrupt("truncated fixed32");
            }
            int v = ByteBuffer.wrap(b, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            pos += 4;
            return v;
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> advance(8);
                case 2 -> advance(length());
                case 5 -> advance(4);
                default -> throw corrupt("unsupported wire type " + (tag & 7) + " (field " + (tag >>> 3) + ")");
            }
        }

        private void advance(int n) {
            if (n > end - pos) {
                throw corrupt("truncated field");
            }
            pos += n;
        }

        private PelaException corrupt(String problem) {
            return new PelaException(source + ": corrupt ONNX protobuf in " + message + " at byte " + pos + ": "
                    + problem);
        }
    }
}
