package ai.pela.zoo.train;

import ai.pela.zoo.io.StateDict;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A single-device training step that the parameter-averaging trainer drives: forward, backward and an optimiser
 * update on one batch, with the parameters and the optimiser state exported to and imported from flat vectors (in
 * {@link #parameterOrder()}) so the driver can average them across workers and checkpoint them. Implementations:
 * {@link PelaStep} (classification / PELA distillation) and {@code ai.pela.zoo.dense.DenseStep} (a ViT backbone
 * with a segmentation or detection head).
 */
public interface TrainStep {
    /** Names of the loss components each step reports, the total ({@code "loss"}) first. */
    List<String> lossNames();

    /**
     * One optimisation step.
     *
     * @throws NonFiniteLossException when a loss component is NaN or infinite (nothing is updated)
     * @throws ai.pela.zoo.PelaException when the batch is not of the type this step trains on
     */
    StepReport step(TrainBatch batch);

    /** The parameters this step trains, with their optimiser state. */
    Trainable trainable();

    /** Parameter names in checkpoint order: the order of the flat vectors. */
    default List<String> parameterOrder() {
        return trainable().order();
    }

    default INDArray exportParams() {
        return trainable().exportParams();
    }

    default void importParams(INDArray flat) {
        trainable().importParams(flat);
    }

    default OptimizerState exportOptimizer() {
        return trainable().exportOptimizer();
    }

    default void importOptimizer(OptimizerState state) {
        trainable().importOptimizer(state);
    }

    /** A copy of the current weights as a checkpoint. */
    default StateDict stateDict() {
        return trainable().stateDict();
    }
}
