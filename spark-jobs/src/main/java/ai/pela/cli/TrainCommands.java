package ai.pela.cli;

import ai.pela.spark.config.DenseSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.config.RunConfig;
import ai.pela.spark.family.ModelFamilies;
import ai.pela.spark.family.ModelFamily;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.DenseTask;
import ai.pela.spark.jobs.HeadTrainJob;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.jobs.TrainJob;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code train-teacher}, {@code pretrain} and {@code train-head}. */
final class TrainCommands {
    private TrainCommands() {
    }

    static Integer run(JobOptions job, TrainJob.Mode mode, String name) {
        Recipe recipe = job.load();
        RunConfig config = RunConfig.from(recipe);
        SparkConf conf = SparkContexts.conf("pela " + name, job.master, config.train().workers());
        Storage storage = new Storage(SparkContexts.hadoopConf(conf));
        ModelFamily family = ModelFamilies.of(storage, config);
        ModelFamily.Prepared prepared = family.prepare(storage, recipe, config, mode == TrainJob.Mode.PRETRAIN);
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            System.out.println(family.noun() + " written to " + prepared.run(sc, (m, s) -> { }));
        }
        return 0;
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "PELA pre-training: compress the teacher at kappa, then train the student with "
                    + "L_base + alpha*L_fd + beta*L_rwp by parameter averaging on Spark. A ViT or a Swin on images and labels, or "
                    + "an ALBEF (model.config an ALBEF config.json) on image-text pairs with L_base = ITC + ITM + MLM. "
                    + "Resumes a run directory that holds a checkpoint.")
    static final class Pretrain implements Callable<Integer> {
        @Mixin
        JobOptions job;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            return run(job, TrainJob.Mode.PRETRAIN, "pretrain");
        }
    }

    @Command(name = "train-teacher", mixinStandardHelpOptions = true,
            description = "Plain training of a dense model with the same parameter-averaging machinery (how the "
                    + "demo makes its teacher): a ViT or a Swin on labelled images, or an ALBEF on image-text pairs (ITC + ITM + "
                    + "MLM, from model.weights or seeded random). Resumes a run directory that holds a checkpoint.")
    static final class TrainTeacher implements Callable<Integer> {
        @Mixin
        JobOptions job;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            return run(job, TrainJob.Mode.TRAIN_TEACHER, "train-teacher");
        }
    }

    @Command(name = "train-head", mixinStandardHelpOptions = true,
            description = "Fine-tune a backbone (teacher, naive low-rank or PELA student model directory) with a dense"
                    + " head by the same parameter averaging: UperNet on ADE20K (--task ade20k) or ViTDet-pyramid FCOS"
                    + " on COCO (--task coco-detection). Writes a dense model directory to <run-dir>/model. Resumes a"
                    + " run directory that holds a checkpoint.")
    static final class TrainHead implements Callable<Integer> {
        @Mixin
        JobOptions job;

        @Option(names = "--task", required = true, description = "ade20k or coco-detection.")
        String task;

        @Option(names = "--backbone", description = "The backbone's model directory (config.json + "
                + "model.safetensors); default: pela.model.config / pela.model.weights of the recipe.")
        String backbone;

        @Mixin
        CommonOptions common;

        @Override
        public Integer call() {
            DenseTask t = DenseTask.parse(task);
            Map<String, String> settings = new LinkedHashMap<>();
            if (backbone != null) {
                String dir = backbone.endsWith("/") ? backbone.substring(0, backbone.length() - 1) : backbone;
                settings.put("model.config", dir + "/config.json");
                settings.put("model.weights", dir + "/model.safetensors");
            }
            Recipe recipe = job.load(settings);
            RunConfig config = RunConfig.from(recipe);
            SparkConf conf = SparkContexts.conf("pela train-head", job.master, config.train().workers());
            HeadTrainJob.Prepared prepared = HeadTrainJob.prepare(new Storage(SparkContexts.hadoopConf(conf)), config,
                    DenseSettings.from(recipe), t);
            try (JavaSparkContext sc = SparkContexts.create(conf)) {
                HeadTrainJob.Result r = HeadTrainJob.run(sc, prepared, (m, st) -> { });
                System.out.println("dense model written to " + r.modelDir());
            }
            return 0;
        }
    }
}
