package ai.pela.cli;

import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.spark.jobs.TrainJob;
import ai.pela.spark.train.Recipe;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code train-teacher} and {@code pretrain}. */
final class TrainCommands {
    private TrainCommands() {
    }

    static Integer run(JobOptions job, TrainJob.Mode mode, String name) {
        Recipe recipe = job.load();
        SparkConf conf = SparkContexts.conf("pela " + name, job.master, recipe.positive("train.workers"));
        TrainJob.Prepared prepared = TrainJob.prepare(new Storage(SparkContexts.hadoopConf(conf)), recipe, mode);
        try (JavaSparkContext sc = SparkContexts.create(conf)) {
            TrainJob.Result r = TrainJob.run(sc, prepared, (m, s) -> { });
            System.out.println("model written to " + r.modelDir());
        }
        return 0;
    }

    @Command(name = "pretrain", mixinStandardHelpOptions = true,
            description = "PELA pre-training: compress the teacher at kappa, then train the student with "
                    + "L_base + alpha*L_fd + beta*L_rwp by parameter averaging on Spark. Resumes a run directory "
                    + "that holds a checkpoint.")
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
            description = "Plain supervised training of a dense ViT with the same parameter-averaging machinery "
                    + "(how the demo makes its teacher). Resumes a run directory that holds a checkpoint.")
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
}
