package ai.pela.cli;

import ai.pela.spark.config.Recipe;
import ai.pela.spark.jobs.SparkContexts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import picocli.CommandLine.Option;

/** Options of every distributed job: the recipe, overrides, and where Spark runs. */
final class JobOptions {
    @Option(names = "--recipe", description = "A HOCON recipe: a local file (e.g. conf/deit-base-imagenet.conf) or "
            + "any Hadoop path (hdfs://, s3a://).")
    String recipe;

    @Option(names = "--set", description = "Override a configuration key: --set train.epochs=3 (repeatable; "
            + "the leading 'pela.' may be left out).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--master", description = "Spark master URL (default: the one spark-submit set, else embedded "
            + "local mode with one thread per worker).")
    String master;

    Recipe load() {
        return load(Map.of());
    }

    /** The recipe with {@code settings} a command derives from its own options, which --set still overrides. */
    Recipe load(Map<String, ?> settings) {
        // spark-submit's --conf settings are system properties of this JVM, so a SparkConf sees them already.
        return Recipe.load(recipe, settings, overrides, SparkContexts.hadoopConf(new SparkConf()));
    }
}
