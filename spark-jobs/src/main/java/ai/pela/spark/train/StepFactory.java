package ai.pela.spark.train;

import ai.pela.zoo.train.TrainStep;
import java.io.Serializable;

/**
 * A model family's step, built on an executor: the ViT's ({@link VitStepFactory}), ALBEF's, a dense head's. Its
 * parameters are placeholders: each round's broadcast overwrites them, so a factory carries architectures, never
 * weights.
 */
public interface StepFactory extends Serializable {
    /**
     * @param device the GPU this task's thread is bound to (0 on the CPU); a teacher loaded through
     *               {@link TeacherCache} must be keyed by it, so that trainers on different GPUs never share arrays
     */
    TrainStep create(ModelSpec spec, int device);

    /** Identifies the steps this factory builds, for the executors' cache of built steps. */
    String key();
}
