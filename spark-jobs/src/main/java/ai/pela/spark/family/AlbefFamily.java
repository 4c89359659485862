package ai.pela.spark.family;

import ai.pela.spark.albef.AlbefFiles;
import ai.pela.spark.albef.AlbefTrainJob;
import ai.pela.spark.config.AlbefSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.TrainJob;

/** ALBEF (vision-language): image-text pairs, {@link AlbefTrainJob}; its config.json names a preset or a bert_config. */
final class AlbefFamily implements ModelFamily {

    @Override
    public String noun() {
        return "ALBEF model";
    }

    @Override
    public boolean accepts(Storage storage, RunConfig config) {
        return AlbefFiles.isAlbef(storage, config.model().config());
    }

    @Override
    public Prepared prepare(Storage storage, Recipe recipe, RunConfig config, boolean pretrain) {
        AlbefTrainJob.Prepared p = AlbefTrainJob.prepare(storage, config, AlbefSettings.from(recipe),
                pretrain ? TrainJob.Mode.PRETRAIN : TrainJob.Mode.TRAIN_TEACHER);
        return (sc, listener) -> AlbefTrainJob.run(sc, p, listener).modelDir();
    }
}
