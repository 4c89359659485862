package ai.pela.zoo.loss;

import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** PELA's loss terms as SameDiff sub-graphs: L = L_base + α·L_fd + β·L_rwp (PELA.md §2). */
public final class Losses {
    /** One decomposed Linear for L_rwp: its two trainable factors and the frozen original weight. */
    public record Decomposed(SDVariable w0, SDVariable w1, SDVariable original) {
    }

    private Losses() {
    }

    /**
     * Cross-entropy against (label-smoothed) target distributions, averaged over the batch.
     *
     * @param targets [N, C] rows summing to 1, e.g. from {@link #smoothedTargets}
     */
    public static SDVariable crossEntropy(SameDiff sd, String name, SDVariable logits, SDVariable targets) {
        SDVariable logp = sd.nn().logSoftmax(logits); // last axis; the overload with an axis fails to clone for backprop in M2.1
        return sd.math().neg(targets.mul(logp).sum(1)).mean().rename(name);
    }

    /**
     * Targets for cross-entropy with label smoothing ε as PyTorch defines it: (1 − ε)·onehot + ε/C.
     */
    public static INDArray smoothedTargets(int[] labels, int numClasses, double smoothing) {
        INDArray t = Nd4j.valueArrayOf(new long[] {labels.length, numClasses}, smoothing / numClasses, DataType.FLOAT);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " outside [0, " + numClasses + ")");
            }
            t.putScalar(i, labels[i], 1.0 - smoothing + smoothing / numClasses);
        }
        return t;
    }

    /** L_fd over paired block features [N, T, D]; teacher features are inputs, never differentiated. */
    public static SDVariable featureDistillation(SameDiff sd, String name, List<SDVariable> student,
            List<SDVariable> teacher, FdForm form) {
        if (student.size() != teacher.size() || student.isEmpty()) {
            throw new IllegalArgumentException("L_fd needs as many teacher as student blocks, got "
                    + teacher.size() + " and " + student.size());
        }
        SDVariable sum = null;
        for (int i = 0; i < student.size(); i++) {
            SDVariable diff = student.get(i).sub(teacher.get(i));
            SDVariable sq = diff.mul(diff);
            SDVariable term = form == FdForm.CODE ? sq.mean() : sq.sum(1, 2).mean();
            sum = sum == null ? term : sum.add(term);
        }
        double scale = form == FdForm.CODE ? 1.0 / student.size() : 1.0 / (2.0 * student.size());
        return sum.mul(scale).rename(name);
    }

    /** L_rwp: bounds max|W1·W0 − W| of every decomposed Linear by ε. */
    public static SDVariable weightPerturbation(SameDiff sd, String name, List<Decomposed> layers, double eps,
            RwpForm form) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("L_rwp needs at least one decomposed Linear");
        }
        SDVariable sum = null;
        for (Decomposed d : layers) {
            SDVariable delta = sd.mmul(d.w1(), d.w0()).sub(d.original());
            SDVariable excess = sd.math().abs(delta).max().sub(eps);
            SDVariable term = form == RwpForm.PAPER ? excess : excess.mul(excess);
            sum = sum == null ? term : sum.add(term);
        }
        return (form == RwpForm.PAPER ? sum : sum.div(layers.size())).rename(name);
    }
}
