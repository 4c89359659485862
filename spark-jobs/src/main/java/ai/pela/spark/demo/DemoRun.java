package ai.pela.spark.demo;

import ai.pela.spark.config.EvalSettings;
import ai.pela.spark.config.LossSettings;
import ai.pela.spark.config.ModelSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.jobs.EvaluateJob;
import ai.pela.spark.jobs.JobFiles;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.report.AblationRow;
import ai.pela.spark.report.Charts;
import ai.pela.spark.report.DemoSummary;
import ai.pela.spark.report.ModelRow;
import ai.pela.spark.report.ReportHtml;
import ai.pela.spark.report.SweepPoint;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code pela demo} runs once the data and the teacher are in place: the teacher, its naive low-rank student
 * (SVD only) and the PELA student, all evaluated on the validation split; optionally PELA's Table 7 ablation and a
 * κ sweep. Every student is trained from the same recipe (data, rounds, seed) with only the setting under study
 * changed, so the rows differ in that setting alone. Writes {@code summary.json}, {@code report.html} and its plots
 * into the output directory.
 */
public final class DemoRun {
    private static final Logger LOG = LoggerFactory.getLogger(DemoRun.class);

    /**
     * What to run beyond the three default rows.
     *
     * @param ablation    Table 7: naive + cross-entropy fine-tuning, + L_fd only, + L_rwp only
     * @param sweepKappas the κ of the sweep, in the order given (empty: no sweep); each naive + PELA
     */
    public record Options(boolean ablation, List<Double> sweepKappas) {
        public Options {
            sweepKappas = List.copyOf(sweepKappas);
            for (double k : sweepKappas) {
                if (!(k > 0) || Double.isInfinite(k)) {
                    throw new PelaException("--sweep: every kappa must be finite and > 0, got " + trim(k));
                }
            }
            if (new LinkedHashSet<>(sweepKappas).size() != sweepKappas.size()) {
                throw new PelaException("--sweep: a kappa is given twice in " + sweepKappas);
            }
        }
    }

    /** The results, as printed and written; {@code seconds} is the wall time of each part (demo, ablation, sweep). */
    public record Outcome(List<ModelRow> rows, List<AblationRow> ablation, List<SweepPoint> sweep,
            Map<String, Double> seconds, Path summary, Path report) {
    }

    /** A student made by the demo: its results and, when it was trained, the training's rounds and model. */
    private record Student(ModelRow row, TrainJob.Result training) {
    }

    private final JavaSparkContext sc;
    private final Recipe recipe;
    private final Path teacherDir;
    private final Path outDir;
    private final EvalSettings eval;
    private final Storage storage;
    private final ModelConfig teacherConfig;
    private final StateDict teacherWeights;
    private final DataSetup val;

    private DemoRun(JavaSparkContext sc, Recipe recipe, Path teacherDir, Path outDir) {
        this.sc = sc;
        this.recipe = recipe;
        this.teacherDir = teacherDir;
        this.outDir = outDir;
        this.eval = EvalSettings.from(recipe);
        this.storage = new Storage(sc.hadoopConfiguration());
        this.teacherConfig = ConfigJson.read(teacherDir.resolve("config.json"));
        this.teacherWeights = Weights.read(storage, teacherDir.resolve("model.safetensors").toString(),
                VitLayout.parameterShapes(teacherConfig));
        RunConfig config = RunConfig.from(recipe);
        this.val = DataSetup.forEvaluation(storage, config.data(), teacherConfig, config.data().valSplit());
    }

    /**
     * Runs the demo on {@code recipe} (whose model.config / model.weights are the teacher in {@code teacherDir}
     * and whose run-dir is where the PELA student trains) and writes its summary and report into {@code outDir}.
     *
     * @throws PelaException for an ablation whose recipe leaves loss.alpha or loss.beta at 0 (a row would repeat
     *     another), before anything is trained
     */
    public static Outcome run(JavaSparkContext sc, Recipe recipe, Path teacherDir, Path outDir, Options options) {
        if (options.ablation()) {
            checkAblationLosses(LossSettings.from(recipe));
        }
        if (!options.sweepKappas().isEmpty()) {
            checkSweepRanks(RunConfig.from(recipe).model());
        }
        return new DemoRun(sc, recipe, teacherDir, outDir).run(options);
    }

    /** A κ sweep varies κ, which sets the ranks under the uniform policy only (a budget's share sets them). */
    static void checkSweepRanks(ModelSettings model) {
        if (model.ranks() != ModelSettings.Ranks.UNIFORM) {
            throw new PelaException("--sweep varies kappa, which sets the ranks under model.rank-policy = uniform only;"
                    + " the recipe has " + Recipe.spelled(model.ranks()) + " (its param-budget sets them)");
        }
    }

    static void checkAblationLosses(LossSettings loss) {
        if (!(loss.alpha() > 0) || !(loss.beta() > 0)) {
            throw new PelaException("--ablation compares L_fd alone, L_rwp alone and both: it needs loss.alpha > 0 and"
                    + " loss.beta > 0 in the demo's recipe, got alpha " + loss.alpha() + ", beta " + loss.beta());
        }
    }

    private Outcome run(Options options) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        long t = System.nanoTime();
        double kappa = RunConfig.from(recipe).model().kappa();
        LOG.info("[1/3] evaluating the teacher on {} test images", val.train().size());
        ModelRow teacher = row("teacher", teacherConfig, evaluate(teacherConfig, teacherDir));
        LOG.info("[2/3] naive low-rank student: SVD at kappa {}, no training", trim(kappa));
        ModelRow naive = naive("naive_lowrank", kappa, outDir.resolve("naive"));
        LOG.info("[3/3] PELA pre-training of the student with {} local executors", eval.workers());
        Student pela = train("pela", recipe);
        List<ModelRow> rows = List.of(teacher, naive, pela.row());
        seconds.put("demo", elapsed(t));

        List<AblationRow> ablation = List.of();
        if (options.ablation()) {
            t = System.nanoTime();
            ablation = ablation(teacher, naive, pela.row());
            seconds.put("ablation", elapsed(t));
        }
        List<SweepPoint> sweep = List.of();
        if (!options.sweepKappas().isEmpty()) {
            t = System.nanoTime();
            sweep = sweep(options.sweepKappas(), kappa, naive, pela.row());
            seconds.put("sweep", elapsed(t));
        }
        Path summary = outDir.resolve("summary.json");
        DemoSummary.writeJson(rows, ablation, sweep, summary);
        Path report = report(rows, pela.training(), ablation, sweep, teacher);
        return new Outcome(rows, ablation, sweep, seconds, summary, report);
    }

    // ---------------------------------------------------------------------------------------------- Table 7

    /**
     * PELA's Table 7 on the demo: the teacher, the naive student, and the naive student fine-tuned with the same
     * data, rounds and seed under four losses — cross-entropy alone (no teacher: the control that shows what the
     * distillation adds), + L_fd (β = 0), + L_rwp (α = 0), and both (the demo's PELA student, not trained twice).
     */
    private List<AblationRow> ablation(ModelRow teacher, ModelRow naive, ModelRow full) {
        LossSettings loss = LossSettings.from(recipe);
        List<AblationRow> rows = new ArrayList<>();
        rows.add(new AblationRow("teacher", null, null, teacher));
        rows.add(new AblationRow("naive low-rank (SVD only)", null, null, naive));
        rows.add(ablated("naive + CE fine-tuning", "ce-only", false, false, loss));
        rows.add(ablated("PELA, L_fd only (beta = 0)", "fd-only", true, false, loss));
        rows.add(ablated("PELA, L_rwp only (alpha = 0)", "rwp-only", false, true, loss));
        rows.add(new AblationRow("PELA (L_fd + L_rwp)", true, true, full));
        return rows;
    }

    private AblationRow ablated(String label, String key, boolean fd, boolean rwp, LossSettings loss) {
        LOG.info("ablation: {} (alpha {}, beta {})", label, fd ? loss.alpha() : 0, rwp ? loss.beta() : 0);
        Recipe r = recipe.with("loss.alpha", fd ? loss.alpha() : 0.0).with("loss.beta", rwp ? loss.beta() : 0.0)
                .with("run-dir", outDir.resolve("ablation").resolve(key).toString());
        return new AblationRow(label, fd, rwp, train(key, r).row());
    }

    // ---------------------------------------------------------------------------------------------- κ sweep

    /** The naive and the PELA student at each κ; the demo's own κ reuses the rows already measured. */
    private List<SweepPoint> sweep(List<Double> kappas, double demoKappa, ModelRow naive, ModelRow pela) {
        List<SweepPoint> points = new ArrayList<>();
        for (double k : kappas) {
            if (k == demoKappa) {
                points.add(new SweepPoint(k, naive, pela));
                continue;
            }
            Path dir = outDir.resolve("sweep").resolve("kappa-" + trim(k));
            LOG.info("kappa sweep: kappa {}", trim(k));
            ModelRow n = naive("naive_kappa_" + trim(k), k, dir.resolve("naive"));
            Recipe r = recipe.with("model.kappa", k).with("run-dir", dir.resolve("pela").toString());
            points.add(new SweepPoint(k, n, train("pela_kappa_" + trim(k), r).row()));
        }
        return points;
    }

    // ---------------------------------------------------------------------------------------------- students

    /** The student the recipe's pretrain starts from at {@code kappa} (its rank policy and SVD), untrained. */
    private ModelRow naive(String name, double kappa, Path dir) {
        RunConfig config = RunConfig.from(recipe.with("model.kappa", kappa));
        LowRank.Student s = TrainJob.compress(storage, config,
                () -> DataSetup.forTraining(storage, config.data(), teacherConfig).train(), teacherConfig,
                teacherWeights);
        JobFiles.writeModel(storage, Storage.path(dir.toString()), s.config(), s.weights());
        return row(name, s.config(), evaluate(s.config(), dir));
    }

    /** Pre-trains the naive student under {@code r} (its run-dir, κ and losses) and evaluates the result. */
    private Student train(String name, Recipe r) {
        TrainJob.Result result = TrainJob.run(sc, TrainJob.prepare(storage, RunConfig.from(r), TrainJob.Mode.PRETRAIN),
                (m, s) -> { });
        Path dir = Path.of(result.modelDir().toUri());
        return new Student(row(name, result.config(), evaluate(result.config(), dir)), result);
    }

    private EvaluateJob.Metrics evaluate(ModelConfig config, Path dir) {
        return EvaluateJob.run(sc, new EvaluateJob.ModelRef(config, dir.resolve("model.safetensors").toString(),
                new SerializableConf(sc.hadoopConfiguration())), val.train(), val.source(),
                eval.batchSize(), eval.partitions());
    }

    private static ModelRow row(String name, ModelConfig config, EvaluateJob.Metrics m) {
        ModelInfo.Summary info = ModelInfo.of(config);
        LOG.info("{}: top-1 {} %, {} params, {} images/s", name, String.format(Locale.ROOT, "%.2f", 100 * m.top1Accuracy()),
                info.params(), String.format(Locale.ROOT, "%.1f", m.imagesPerSecond()));
        return new ModelRow(name, m.top1Accuracy(), m.top5Accuracy(), info.params(), info.gflops(), m.imagesPerSecond());
    }

    // ---------------------------------------------------------------------------------------------- report

    private Path report(List<ModelRow> rows, TrainJob.Result pela, List<AblationRow> ablation, List<SweepPoint> sweep,
            ModelRow teacher) {
        List<String> pngs = new ArrayList<>();
        pngs.add(png(Charts.losses(pela.rounds(), outDir.resolve("pela-losses.png"))));
        pngs.add(png(Charts.accuracy(rows, outDir.resolve("accuracy.png"))));
        pngs.add(png(Charts.ranks(pela.config().lowrank(), pela.config(), outDir.resolve("ranks.png"))));
        Map<String, String> sections = new LinkedHashMap<>();
        if (!ablation.isEmpty()) {
            List<ModelRow> bars = ablation.stream().map(a -> rename(a.model(), a.label())).toList();
            pngs.add(png(Charts.accuracy(bars, "Table 7 ablation: top-1 accuracy", outDir.resolve("ablation.png"))));
            sections.put("Table 7 ablation (same data, rounds and seed for every student)",
                    ReportHtml.ablationTable(ablation));
        }
        if (!sweep.isEmpty()) {
            pngs.add(png(Charts.kappaSweep(sweep, teacher, outDir.resolve("kappa-sweep.png"))));
            sections.put("Compression ratio sweep", ReportHtml.sweepTable(sweep));
        }
        sections.put("Configuration", "<pre>" + ReportHtml.escape(recipe.render()) + "</pre>");
        return ReportHtml.write(outDir, "PELA on Fashion-MNIST", rows, sections, pngs);
    }

    private static ModelRow rename(ModelRow m, String name) {
        return new ModelRow(name, m.top1(), m.top5(), m.params(), m.gflops(), m.imagesPerS());
    }

    private static String png(Path file) {
        return file.getFileName().toString();
    }

    private static double elapsed(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
