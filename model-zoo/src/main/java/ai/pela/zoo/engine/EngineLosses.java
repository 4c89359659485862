package ai.pela.zoo.engine;

import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PELA's loss terms on the engine, each computing its value and its gradient in one pass (PELA.md §2;
 * the SameDiff definitions in {@link ai.pela.zoo.loss.Losses} are the same functions).
 */
public final class EngineLosses {
    private EngineLosses() {
    }

    /**
     * Cross-entropy of {@code logits} [N, C] against labels smoothed as PyTorch does ((1 − ε)·onehot + ε/C), averaged
     * over the batch; writes its gradient {@code (softmax − target)/N} into {@code dLogits}. Logits are few (N·C),
     * so this runs on the host in double precision.
     */
    public static double crossEntropy(INDArray logits, int[] labels, double smoothing, INDArray dLogits) {
        int n = (int) logits.size(0);
        int c = (int) logits.size(1);
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " labels for " + n + " logits rows");
        }
        float[] z = logits.reshape(logits.length()).toFloatVector();
        float[] grad = new float[n * c];
        double loss = 0;
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException("label " + labels[i] + " outside [0, " + c + ")");
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, z[i * c + j]);
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(z[i * c + j] - max);
            }
            double logSum = max + Math.log(sum);
            for (int j = 0; j < c; j++) {
                double target = smoothing / c + (j == labels[i] ? 1 - smoothing : 0);
                double logp = z[i * c + j] - logSum;
                loss -= target * logp;
                grad[i * c + j] = (float) ((Math.exp(logp) - target) / n);
            }
        }
        dLogits.assign(Nd4j.createFromArray(grad).reshape(n, c));
        return loss / n;
    }

    /**
     * L_fd between the student's block outputs and the teacher's, added block by block into the backward as its
     * gradient reaches each block's output. CODE: mean over blocks of the element-wise MSE; PAPER: 1/(2L) Σ_i of
     * the squared norm per example, averaged over the batch.
     */
    public static final class FeatureDistillation implements Vit.BlockOutputGradient {
        private final List<INDArray> teacher;
        private final FdForm form;
        private final double weight;
        private final Kernels k;
        private final int batch;
        private double sum;

        /**
         * @param teacherFeatures the teacher's block outputs for this batch, N·T·D values each
         * @param weight          α; with α = 0 only the value is computed
         */
        public FeatureDistillation(List<INDArray> teacherFeatures, FdForm form, double weight, int batch, Kernels kernels) {
            this.teacher = teacherFeatures;
            this.batch = batch;
            this.form = form;
            this.weight = weight;
            this.k = kernels;
        }

        /** Starts a new step's sum. */
        public void reset() {
            sum = 0;
        }

        @Override
        public void addTo(int block, INDArray output, INDArray dOutput) {
            double scale = scale(output);
            // d(weight·scale·Σ(s − t)²)/ds = 2·weight·scale·(s − t)
            INDArray grad = weight != 0 ? dOutput : null;
            sum += scale * k.squaredDistance(output, teacher.get(block), 2 * weight * scale, grad, true);
        }

        private double scale(INDArray output) {
            int blocks = teacher.size();
            return form == FdForm.CODE ? 1.0 / ((double) output.length() * blocks) : 1.0 / (2.0 * blocks * batch);
        }

        /** L_fd of the step so far (all blocks after a backward). */
        public double value() {
            return sum;
        }
    }

    /**
     * L_rwp over the decomposed Linears: ΔW = P.1·P.0 − W with W the teacher's dense weight; PAPER: Σ_k (max|ΔW_k| − ε),
     * CODE: mean_k (max|ΔW_k| − ε)². The max passes its gradient to the arg-max element only (as PyTorch's max does),
     * a rank-1 update of each factor's gradient.
     */
    public static final class WeightPerturbation {
        private record Term(INDArray w0, INDArray w1, INDArray g0, INDArray g1, INDArray original, INDArray delta) {
        }

        private final List<Term> terms = new ArrayList<>();
        private final RwpForm form;
        private final double eps;
        private final Kernels k;

        /**
         * @param linears  the decomposed Linears' names
         * @param teacher  the teacher's dense weights by key ({@code name.weight})
         */
        public WeightPerturbation(ParamSet student, java.util.function.Function<String, INDArray> teacher,
                List<String> linears, RwpForm form, double eps, Kernels kernels) {
            this.form = form;
            this.eps = eps;
            this.k = kernels;
            long largest = 0;
            for (String l : linears) {
                largest = Math.max(largest, teacher.apply(l + ".weight").length());
            }
            INDArray scratch = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, Math.max(1, largest));
            boolean train = student.flatGrads() != null;
            for (String l : linears) {
                INDArray w = teacher.apply(l + ".weight");
                terms.add(new Term(student.value(l + ".0.weight"), student.value(l + ".1.weight"),
                        train ? student.grad(l + ".0.weight") : null, train ? student.grad(l + ".1.weight") : null,
                        w, Arena.view(scratch, w.size(0), w.size(1))));
            }
            if (terms.isEmpty()) {
                throw new IllegalArgumentException("L_rwp needs at least one decomposed Linear");
            }
        }

        /** The value; with {@code weight} ≠ 0 also adds {@code weight·∂L_rwp/∂factor} into the factors' gradients. */
        public double apply(double weight) {
            double sum = 0;
            for (Term t : terms) {
                k.gemm(t.w1, false, t.w0, false, t.delta, 1, 0);
                t.delta.subi(t.original);
                int at = Nd4j.getBlasWrapper().iamax(t.delta.reshape(t.delta.length()));
                double signed = t.delta.getDouble(at);
                double excess = Math.abs(signed) - eps;
                sum += form == RwpForm.PAPER ? excess : excess * excess;
                double dExcess = form == RwpForm.PAPER ? 1 : 2 * excess / terms.size();
                if (weight != 0) {
                    addArgMaxGradient(t, at, weight * dExcess * Math.signum(signed));
                }
            }
            return form == RwpForm.PAPER ? sum : sum / terms.size();
        }

        /** ∂ΔW[i, j] / ∂P.1[i, :] = P.0[:, j]ᵀ and ∂ΔW[i, j] / ∂P.0[:, j] = P.1[i, :]ᵀ. */
        private static void addArgMaxGradient(Term t, int at, double c) {
            long cols = t.delta.size(1);
            long i = at / cols;
            long j = at % cols;
            INDArray row1 = t.w1.getRow(i).dup();
            t.g1.getRow(i).addi(t.w0.getColumn(j).mul(c));
            t.g0.getColumn(j).addi(row1.muli(c));
        }
    }
}
