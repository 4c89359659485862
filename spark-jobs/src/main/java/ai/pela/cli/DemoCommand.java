package ai.pela.cli;

import ai.pela.spark.config.EvalSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.jobs.EvaluateJob;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.report.Charts;
import ai.pela.spark.report.DemoSummary;
import ai.pela.spark.report.ModelRow;
import ai.pela.spark.report.ReportHtml;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.vit.VitLayout;
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
 * committed one, or retrained with train-teacher), its naive κ=2 student (SVD only) and the PELA-pretrained
 * student (parameter averaging over 2 local executors), all evaluated on the 10,000 test images; prints a table
 * and writes summary.json and report.html with PNG plots.
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

    @Option(names = "--master", description = "Spark master URL (default: embedded local mode, 2 executor threads).")
    String master;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
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
            return run(sc, recipe, teacherDir, outDir, t0);
        }
    }

    private int run(JavaSparkContext sc, Recipe recipe, Path teacherDir, Path outDir, long t0) throws Exception {
        RunConfig config = RunConfig.from(recipe);
        EvalSettings eval = EvalSettings.from(recipe);
        Storage storage = new Storage(sc.hadoopConfiguration());
        ModelConfig teacherConfig = ConfigJson.read(teacherDir.resolve("config.json"));
        StateDict teacherWeights = Weights.read(storage, teacherDir.resolve("model.safetensors").toString(),
                VitLayout.parameterShapes(teacherConfig));
        DataSetup val = DataSetup.forEvaluation(storage, config.data(), teacherConfig, config.data().valSplit());
        List<ModelRow> rows = new ArrayList<>();

        LOG.info("[1/3] evaluating the teacher on {} test images", val.train().size());
        rows.add(row("teacher", teacherConfig, evaluate(sc, eval, teacherConfig, teacherDir, val)));

        LOG.info("[2/3] naive low-rank student: SVD at kappa {}, no training", config.model().kappa());
        LowRank.Student naive = LowRank.compress(teacherConfig, teacherWeights, config.model().kappa(),
                config.model().omit());
        Path naiveDir = outDir.resolve("naive");
        JobFiles.writeModel(storage, Storage.path(naiveDir.toString()), naive.config(), naive.weights());
        rows.add(row("naive_lowrank", naive.config(), evaluate(sc, eval, naive.config(), naiveDir, val)));

        LOG.info("[3/3] PELA pre-training of the student with {} local executors", config.train().workers());
        TrainJob.Result pela = TrainJob.run(sc, TrainJob.prepare(storage, config, TrainJob.Mode.PRETRAIN), (m, s) -> { });
        Path pelaDir = Path.of(pela.modelDir().toUri());
        rows.add(row("pela", pela.config(), evaluate(sc, eval, pela.config(), pelaDir, val)));

        DemoSummary.writeJson(rows, outDir.resolve("summary.json"));
        List<String> pngs = new ArrayList<>();
        pngs.add(Charts.losses(pela.rounds(), outDir.resolve("pela-losses.png")).getFileName().toString());
        pngs.add(Charts.accuracy(rows, outDir.resolve("accuracy.png")).getFileName().toString());
        pngs.add(Charts.ranks(pela.config().lowrank(), pela.config(), outDir.resolve("ranks.png")).getFileName().toString());
        Map<String, String> sections = new LinkedHashMap<>();
        sections.put("Configuration", "<pre>" + ReportHtml.escape(recipe.render()) + "</pre>");
        ReportHtml.write(outDir, "PELA on Fashion-MNIST", rows, sections, pngs);
        System.out.println();
        System.out.println(DemoSummary.table(rows));
        System.out.printf("%nsummary: %s%nreport:  %s%ntotal time: %.1f min%n", outDir.resolve("summary.json"),
                outDir.resolve("report.html"), (System.nanoTime() - t0) / 60e9);
        return 0;
    }

    private Path trainTeacher(JavaSparkContext sc, Path home, Path data, Path outDir) {
        LOG.info("training the teacher with train-teacher (conf/demo/teacher.conf)");
        Recipe r = Recipe.load(home.resolve("conf/demo/teacher.conf").toFile(), Map.of("data.root", data.toString(),
                "run-dir", outDir.resolve("teacher-run").toString(),
                "model.config", home.resolve("conf/demo/vit-fmnist.json").toString()), List.of());
        return Path.of(TrainJob.run(sc, r, TrainJob.Mode.TRAIN_TEACHER).modelDir().toUri());
    }

    private static EvaluateJob.Metrics evaluate(JavaSparkContext sc, EvalSettings eval, ModelConfig config, Path dir,
            DataSetup val) {
        return EvaluateJob.run(sc, new EvaluateJob.ModelRef(config, dir.resolve("model.safetensors").toString(),
                new SerializableConf(sc.hadoopConfiguration())), val.train(), val.source(),
                eval.batchSize(), eval.partitions());
    }

    private static ModelRow row(String name, ModelConfig config, EvaluateJob.Metrics m) {
        ModelInfo.Summary info = ModelInfo.of(config);
        LOG.info("{}: top-1 {} %, {} params, {} images/s", name, String.format("%.2f", 100 * m.top1Accuracy()),
                info.params(), String.format("%.1f", m.imagesPerSecond()));
        return new ModelRow(name, m.top1Accuracy(), m.top5Accuracy(), info.params(), info.gflops(), m.imagesPerSecond());
    }
}
