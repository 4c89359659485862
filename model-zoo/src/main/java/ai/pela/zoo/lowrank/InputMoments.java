package ai.pela.zoo.lowrank;

import ai.pela.zoo.engine.Vit;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The calibration statistics of activation-aware SVD: for each Linear, the mean of x² per input channel over every
 * token it saw (the diagonal of the input's second-moment matrix). {@link #scales()} turns them into ASVD's
 * diagonal scaling S, here the root mean square s_j = √E[x_j²] (ASVD uses (mean|x_j|)^α; the RMS is the choice
 * under which ‖(W − W')·S‖_F² equals the expected output error for uncorrelated channels).
 */
public final class InputMoments implements Vit.InputObserver {
    /** Channels that were (almost) never active get this share of the largest scale, so S stays invertible. */
    static final double FLOOR = 1e-6;

    private final Map<String, INDArray> sumSquares = new LinkedHashMap<>();
    private final Map<String, Long> rows = new LinkedHashMap<>();

    @Override
    public void observe(String linear, INDArray input) {
        INDArray x = input.castTo(DataType.DOUBLE);
        INDArray sq = x.mul(x).sum(0);
        sumSquares.merge(linear, sq, INDArray::addi);
        rows.merge(linear, input.size(0), Long::sum);
    }

    /** The RMS of each Linear's input per channel, floored at {@value #FLOOR} of its largest (double [d_in]). */
    public Map<String, INDArray> scales() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        sumSquares.forEach((name, sq) -> {
            INDArray rms = Transforms.sqrt(sq.div(rows.get(name)), false);
            double floor = Math.max(rms.maxNumber().doubleValue() * FLOOR, Double.MIN_NORMAL);
            out.put(name, Transforms.max(rms, floor, false));
        });
        return out;
    }
}
