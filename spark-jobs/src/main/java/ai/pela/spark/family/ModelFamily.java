package ai.pela.spark.family;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.ParameterAveraging;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A model family as train-teacher and pretrain see it: whether the recipe's model is one of its own (by the model's
 * config.json), and how to prepare a run of it on the driver. Everything else — the plan, resuming, the rounds, the
 * schedule — is the {@link ai.pela.spark.train.TrainRun} every family shares. A new family is one implementation and
 * a line in {@link ModelFamilies}.
 */
public interface ModelFamily {

    /** How the family names its models in messages ("model", "ALBEF model"). */
    String noun();

    /** True when the recipe's {@code model.config} describes a model of this family. */
    boolean accepts(Storage storage, RunConfig config);

    /**
     * Reads and checks everything on the driver (model, data listing, teacher and its compression, the checkpoint to
     * resume from) before the cluster is asked for executors.
     *
     * @param pretrain PELA pre-training of a compressed student; otherwise plain training of the model itself
     */
    Prepared prepare(Storage storage, Recipe recipe, RunConfig config, boolean pretrain);

    /** A prepared run: trains on the cluster and writes the model directory. */
    @FunctionalInterface
    interface Prepared {
        /** @return the directory the model was written to */
        Path run(JavaSparkContext sc, ParameterAveraging.RoundListener listener);
    }
}
