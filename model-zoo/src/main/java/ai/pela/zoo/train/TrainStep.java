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

    /** Parameter names in checkpoint order: the order of the flat vectors. */
    List<String> parameterOrder();

    INDArray exportParams();

    void importParams(INDArray flat);

    OptimizerState exportOptimizer();

    void importOptimizer(OptimizerState state);

    /** A copy of the current weights as a checkpoint. */
    StateDict stateDict();
}
