package ai.pela.cli;

import ai.pela.spark.train.Recipe;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options of every distributed job: the recipe, overrides, and where Spark runs. */
final class JobOptions {
    @Option(names = "--recipe", description = "A HOCON recipe file (e.g. conf/deit-base-imagenet.conf).")
    File recipe;

    @Option(names = "--set", description = "Override a configuration key: --set train.epochs=3 (repeatable; "
            + "the leading 'pela.' may be left out).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--master", description = "Spark master URL (default: the one spark-submit set, else embedded "
            + "local mode with one thread per worker).")
    String master;

    Recipe load() {
        return Recipe.load(recipe, overrides);
    }
}
