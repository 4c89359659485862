package ai.pela.zoo.train;

import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.io.StateDict;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The parameters a step trains — the arrays of its graph's variables, updated in place — in checkpoint order, with
 * their AdamW state. The one place for what every step does with them: the update (gradient-norm clipping, the
 * schedule's learning rate, AdamW), the flat vectors the driver averages, and checkpoints.
 */
public final class Trainable {
    private final List<String> order;
    private final Map<String, INDArray> arrays = new LinkedHashMap<>();
    private final StepHyper hyper;
    private final AdamW optimizer;
    private final ParamSet flat;

    /** What one update did: the gradient norm before clipping and the learning rate it used. */
    public record Update(double gradNorm, double lr) {
    }

    /** The arrays of {@code sd}'s variables named in {@code order}, trained with {@code hyper}'s AdamW. */
    public Trainable(SameDiff sd, List<String> order, StepHyper hyper) {
        this.order = List.copyOf(order);
        for (String name : this.order) {
            arrays.put(name, sd.getVariable(name).getArr());
        }
        this.hyper = hyper;
        this.optimizer = new AdamW(hyper.adamw(), arrays);
        this.flat = null;
    }

    /**
     * The parameters of an engine model: views of one flat vector, with one flat gradient vector, updated by
     * {@link #updateFlat()} in a few passes over flat vectors.
     */
    public Trainable(ParamSet params, StepHyper hyper) {
        this.order = params.order();
        this.arrays.putAll(params.values());
        this.hyper = hyper;
        this.optimizer = AdamW.flat(hyper.adamw(), arrays);
        this.flat = params;
    }

    /** {@link #update(Map)} on the flat gradient vector of an engine model: clipping, schedule, AdamW. */
    public Update updateFlat() {
        if (flat == null) {
            throw new IllegalStateException("updateFlat needs the parameters of an engine model (a ParamSet)");
        }
        INDArray g = flat.flatGrads();
        double norm = g.norm2Number().doubleValue();
        if (hyper.clipNorm() > 0) {
            double coef = hyper.clipNorm() / (norm + 1e-6);
            if (coef < 1) {
                g.muli(coef);
            }
        }
        double lr = hyper.schedule().lr(optimizer.step());
        optimizer.updateFlat(flat.flatValues(), g, lr);
        return new Update(norm, lr);
    }

    /** Parameter names in checkpoint order: the order of the flat vectors. */
    public List<String> order() {
        return order;
    }

    /** The live array of one parameter (the graph's own: changes to it are changes to the model). */
    public INDArray get(String name) {
        return arrays.get(name);
    }

    /** Clips the gradients to the configured norm, then one AdamW update at the schedule's learning rate. */
    public Update update(Map<String, INDArray> grads) {
        return update(grads, name -> 1.0);
    }

    /** As {@link #update(Map)} with the learning rate scaled per parameter ({@link AdamW}'s per-group rates). */
    public Update update(Map<String, INDArray> grads, ToDoubleFunction<String> lrScale) {
        double gradNorm = AdamW.clipGradNorm(grads, hyper.clipNorm());
        double lr = hyper.schedule().lr(optimizer.step());
        optimizer.update(arrays, grads, lr, lrScale);
        return new Update(gradNorm, lr);
    }

    /** A copy of the current weights as a checkpoint. */
    public StateDict stateDict() {
        StateDict s = new StateDict();
        arrays.forEach((k, v) -> s.put(k, v.dup()));
        return s;
    }

    public INDArray exportParams() {
        return Flat.flatten(arrays, order);
    }

    public void importParams(INDArray flat) {
        Flat.unflattenInto(flat, arrays, order);
    }

    public OptimizerState exportOptimizer() {
        return optimizer.exportState(order);
    }

    public void importOptimizer(OptimizerState state) {
        optimizer.importState(state, order);
    }
}
