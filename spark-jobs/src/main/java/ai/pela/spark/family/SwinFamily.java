package ai.pela.spark.family;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.swin.SwinFiles;
import ai.pela.spark.swin.SwinTrainJob;
import ai.pela.zoo.config.Family;

/** Swin Transformers: images and labels, {@link SwinTrainJob}; its config.json names a Swin preset or has depths + window_size. */
final class SwinFamily implements ModelFamily {

    @Override
    public String noun() {
        return "Swin model";
    }

    @Override
    public boolean accepts(Storage storage, RunConfig config) {
        return SwinFiles.family(storage, config.model().config()) == Family.SWIN;
    }

    @Override
    public Prepared prepare(Storage storage, Recipe recipe, RunConfig config, boolean pretrain) {
        SwinTrainJob.Prepared p = SwinTrainJob.prepare(storage, config, pretrain ? TrainJob.Mode.PRETRAIN
                : TrainJob.Mode.TRAIN_TEACHER);
        return (sc, listener) -> SwinTrainJob.run(sc, p, listener).modelDir();
    }
}
