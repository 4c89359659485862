package ai.pela.spark.family;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.TrainJob;

/** ViTs (timm's DeiT family): images and labels, {@link TrainJob}. Takes any model no other family claims. */
final class VitFamily implements ModelFamily {

    @Override
    public String noun() {
        return "model";
    }

    @Override
    public boolean accepts(Storage storage, RunConfig config) {
        return true;
    }

    @Override
    public Prepared prepare(Storage storage, Recipe recipe, RunConfig config, boolean pretrain) {
        TrainJob.Prepared p = TrainJob.prepare(storage, config, pretrain ? TrainJob.Mode.PRETRAIN
                : TrainJob.Mode.TRAIN_TEACHER);
        return (sc, listener) -> TrainJob.run(sc, p, listener).modelDir();
    }
}
