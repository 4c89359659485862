package ai.pela.zoo.dense;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.StateDict;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a dense head's builder gets its parameters: by checkpoint key, from a checkpoint (as variables to train
 * or as constants for inference), or, with no checkpoint, zeros of the requested shape — that mode only records
 * the layout (every key and shape in the order the builder asks for them), so the layout is the graph's by
 * construction.
 */
final class Params {
    private final SameDiff sd;
    private final StateDict weights;
    private final boolean trainable;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    Params(SameDiff sd, StateDict weights, boolean trainable) {
        this.sd = sd;
        this.weights = weights;
        this.trainable = trainable;
    }

    /** The parameter {@code key} of the given shape; asking again for a key returns the same variable. */
    SDVariable get(String key, long... shape) {
        if (sd.hasVariable(key)) {
            return sd.getVariable(key);
        }
        INDArray arr;
        if (weights == null) {
            arr = Nd4j.zeros(DataType.FLOAT, shape);
        } else {
            arr = weights.get(key);
            if (!Arrays.equals(arr.shape(), shape)) {
                throw new PelaException("tensor '" + key + "' has shape " + Arrays.toString(arr.shape())
                        + " but the model needs " + Arrays.toString(shape));
            }
            if (arr.dataType() != DataType.FLOAT) {
                arr = arr.castTo(DataType.FLOAT);
            }
        }
        shapes.put(key, shape);
        return trainable ? sd.var(key, arr.dup()) : sd.constant(key, arr);
    }

    /** Every key asked for so far with its shape, in the order of the first request. */
    Map<String, long[]> shapes() {
        return shapes;
    }
}
