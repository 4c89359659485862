package ai.pela.cli;

import ai.pela.spark.config.EvalSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.demo.DemoRun;
import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.report.DemoSummary;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pela demo}: the embedded default. Real Fashion-MNIST in ImageNet folder layout, a ViT teacher (the
 * committed one, or retrained with train-teacher), its naive low-rank student (SVD only) and the PELA-pretrained
 * student (parameter averaging over 2 local executors), all evaluated on the 10,000 test images; with
 * {@code --ablation} PELA's Table 7 and with {@code --sweep} a κ sweep ({@link DemoRun}). Prints tables and writes
 * summary.json and report.html with PNG plots.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Teacher vs naive low-rank vs PELA student on real Fashion-MNIST, end to end on this machine.")
final class DemoCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DemoCommand.class);

    @Option(names = "--out", defaultValue = "runs/demo", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--retrain-teacher", description = "Train the teacher here with train-teacher "
            + "(conf/demo/teacher.conf) instead of using the committed one.")
    boolean retrainTeacher;

    @Option(names = "--prepare-only", description = "Only write Fashion-MNIST in ImageNet layout under --out.")
    boolean prepareOnly;

    @Option(names = "--set", description = "Override a key of conf/demo.conf (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--ablation", description = "Also run PELA's Table 7 ablation: the naive student fine-tuned on "
            + "the cross-entropy alone (no teacher), with L_fd only (beta = 0) and with L_rwp only (alpha = 0), each "
            + "with the same data, rounds and seed as the PELA student.")
    boolean ablation;

    @Option(names = "--sweep", split = ",", paramLabel = "KAPPA", description = "Also train and evaluate the naive and "
            + "the PELA student at each of these compression ratios, e.g. --sweep 2,3,4 (accuracy against parameters "
            + "in the report).")
    List<Double> sweep = new ArrayList<>();

    @Option(names = "--master", description = "Spark master URL (default: embedded local mode, 2 executor threads).")
    String master;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        DemoRun.Options options = new DemoRun.Options(ablation, sweep); // checks --sweep before any work
        Path home = Path.of(System.getenv().getOrDefault("PELA_HOME", ".")).toAbsolutePath().normalize();
        Path outDir = out.toAbsolutePath().normalize();
        Files.createDirectories(outDir);
        Path data = outDir.resolve("data/fashion-mnist");
        FashionMnistExport.Summary exported = FashionMnistExport.export(
                FashionMnistExport.locateOrFetch(outDir.resolve("cache")), data, 0, 0);
        LOG.info("Fashion-MNIST in ImageNet layout at {} ({} train, {} val images)", data, exported.trainImages(),
                exported.valImages());
        if (prepareOnly) {
            return 0;
        }
        File demoRecipe = home.resolve("conf/demo.conf").toFile();
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data.root", data.toString());
        Recipe recipe = Recipe.load(demoRecipe, settings, overrides);
        try (JavaSparkContext sc = SparkContexts.create("pela demo", master, EvalSettings.from(recipe).workers())) {
            Path teacherDir = retrainTeacher ? trainTeacher(sc, home, data, outDir) : home.resolve("conf/demo/teacher");
            settings.put("model.config", teacherDir.resolve("config.json").toString());
            settings.put("model.weights", teacherDir.resolve("model.safetensors").toString());
            settings.put("run-dir", outDir.resolve("pela").toString());
            recipe = Recipe.load(demoRecipe, settings, overrides);
            return run(sc, recipe, teacherDir, outDir, options, t0);
        }
    }

    private int run(JavaSparkContext sc, Recipe recipe, Path teacherDir, Path outDir, DemoRun.Options options,
            long t0) {
        DemoRun.Outcome o = DemoRun.run(sc, recipe, teacherDir, outDir, options);
        System.out.println();
        System.out.println(DemoSummary.table(o.rows()));
        if (!o.ablation().isEmpty()) {
            System.out.printf("%nTable 7 ablation (same data, rounds and seed; %.1f min):%n", o.seconds().get("ablation") / 60);
            System.out.println(DemoSummary.ablationTable(o.ablation()));
        }
        if (!o.sweep().isEmpty()) {
            System.out.printf("%nkappa sweep (%.1f min):%n", o.seconds().get("sweep") / 60);
            System.out.println(DemoSummary.sweepTable(o.sweep()));
        }
        System.out.printf("%nsummary: %s%nreport:  %s%ntotal time: %.1f min%n", o.summary(), o.report(),
                (System.nanoTime() - t0) / 60e9);
        return 0;
    }

    private Path trainTeacher(JavaSparkContext sc, Path home, Path data, Path outDir) {
        LOG.info("training the teacher with train-teacher (conf/demo/teacher.conf)");
        Recipe r = Recipe.load(home.resolve("conf/demo/teacher.conf").toFile(), Map.of("data.root", data.toString(),
                "run-dir", outDir.resolve("teacher-run").toString(),
                "model.config", home.resolve("conf/demo/vit-fmnist.json").toString()), List.of());
        return Path.of(TrainJob.run(sc, r, TrainJob.Mode.TRAIN_TEACHER).modelDir().toUri());
    }
}
