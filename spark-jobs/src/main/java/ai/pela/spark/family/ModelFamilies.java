package ai.pela.spark.family;

import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.Storage;
import java.util.List;

/** The families train-teacher and pretrain know, asked in order; the ViT last, as it takes any model. */
public final class ModelFamilies {
    private static final List<ModelFamily> ALL = List.of(new AlbefFamily(), new SwinFamily(), new VitFamily());

    private ModelFamilies() {
    }

    /** The family of the recipe's model. */
    public static ModelFamily of(Storage storage, RunConfig config) {
        return ALL.stream().filter(f -> f.accepts(storage, config)).findFirst().orElseThrow();
    }
}
