package ai.pela.zoo.engine;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a network's buffers come from: every activation, activation gradient and scratch array is taken here once,
 * when the network is built for a batch size, and reused by every step after.
 */
final class Arena {
    /** A new FLOAT array of {@code shape}, C order, zero-filled. */
    INDArray take(long... shape) {
        return Nd4j.create(DataType.FLOAT, shape, 'c');
    }

    /** A [rows, cols] view of the first rows·cols values of {@code scratch} (shared scratch of another shape). */
    static INDArray view(INDArray scratch, long rows, long cols) {
        if (rows * cols > scratch.length()) {
            throw new IllegalArgumentException("scratch of " + scratch.length() + " values cannot hold [" + rows + ", " + cols + "]");
        }
        return scratch.reshape(scratch.length()).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, rows * cols))
                .reshape('c', rows, cols);
    }
}
