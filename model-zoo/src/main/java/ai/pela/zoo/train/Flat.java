package ai.pela.zoo.train;

import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Flattens named arrays into one vector in a fixed order and back (parameter averaging works on vectors). */
public final class Flat {
    private Flat() {
    }

    public static long length(Map<String, INDArray> arrays, List<String> order) {
        long n = 0;
        for (String k : order) {
            n += arrays.get(k).length();
        }
        return n;
    }

    public static INDArray flatten(Map<String, INDArray> arrays, List<String> order) {
        INDArray flat = Nd4j.create(DataType.FLOAT, length(arrays, order));
        long off = 0;
        for (String k : order) {
            INDArray a = arrays.get(k);
            flat.get(NDArrayIndex.interval(off, off + a.length())).assign(a.reshape(a.length()));
            off += a.length();
        }
        return flat;
    }

    /** Copies {@code flat} into the existing arrays (in place, so graph variables see the new values). */
    public static void unflattenInto(INDArray flat, Map<String, INDArray> arrays, List<String> order) {
        long expected = length(arrays, order);
        if (flat.length() != expected) {
            throw new IllegalArgumentException("flat vector has " + flat.length() + " values, the arrays need " + expected);
        }
        long off = 0;
        for (String k : order) {
            INDArray a = arrays.get(k);
            a.assign(flat.get(NDArrayIndex.interval(off, off + a.length())).reshape(a.shape()));
            off += a.length();
        }
    }
}
