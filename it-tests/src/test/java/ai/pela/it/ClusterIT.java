package ai.pela.it;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * pretrain on a real standalone cluster (Master + 2 Workers, separate JVMs, 127.0.0.1 only) submitted through
 * SparkSubmit, against the same job in local mode; and bad input end to end through spark-submit.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    static Path dir;
    static StandaloneCluster cluster;
    static Path data;

    @BeforeAll
    static void start() throws Exception {
        // Real Fashion-MNIST items (Debian's dataset-fashion-mnist, installed by .ci/run) in ImageNet layout.
        data = FashionMnistExport.export(FashionMnistExport.locateOrFetch(dir.resolve("cache")),
                dir.resolve("fmnist"), 192, 64).root();
        cluster = StandaloneCluster.start(dir.resolve("cluster"), 2);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String[] pretrain(Path runDir, String... extra) {
        Path teacher = StandaloneCluster.repoRoot().resolve("conf/demo/teacher");
        List<String> a = new ArrayList<>(List.of("pretrain",
                "--set", "run-dir=\"" + runDir + "\"",
                "--set", "data.root=\"" + data + "\"",
                "--set", "model.config=\"" + teacher.resolve("config.json") + "\"",
                "--set", "model.weights=\"" + teacher.resolve("model.safetensors") + "\"",
                "--set", "train.workers=2", "--set", "train.local-steps=2", "--set", "train.batch-size=16",
                "--set", "train.epochs=2", "--set", "checkpoint.every-rounds=2", "--set", "loss.alpha=1", "--set", "loss.beta=1", "--set", "seed=5",
                "--set", "data.crop-scale=[0.85, 1.0]"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The no-fault run on the cluster, which every fault test must end equal to. */
    private static synchronized Path reference() throws Exception {
        Path run = dir.resolve("cluster-run");
        if (!java.nio.file.Files.exists(run.resolve("model/model.safetensors"))) {
            StandaloneCluster.Submitted s = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT, pretrain(run));
            assertThat(s.exit()).as(s.stderr()).isZero();
            System.out.printf("no-fault cluster run: %s%n", s.took());
        }
        return run;
    }

    private static double maxDiff(Path runA, Path runB) {
        StateDict a = Safetensors.read(runA.resolve("model/model.safetensors"));
        StateDict b = Safetensors.read(runB.resolve("model/model.safetensors"));
        double maxDiff = 0;
        for (String k : a.keys()) {
            INDArray d = Transforms.abs(a.get(k).sub(b.get(k)));
            maxDiff = Math.max(maxDiff, d.maxNumber().doubleValue());
        }
        return maxDiff;
    }

    /** Waits until the run has logged at least {@code rounds} rounds in metrics.jsonl. */
    private static void awaitRounds(Path run, int rounds, StandaloneCluster.Running job) throws Exception {
        Path metrics = run.resolve("metrics.jsonl");
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && job.process().isAlive()) {
            if (java.nio.file.Files.exists(metrics) && java.nio.file.Files.readAllLines(metrics).size() >= rounds) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(run + " did not reach round " + rounds + "; stderr: "
                + java.nio.file.Files.readString(job.err()));
    }

    /** Runs pretrain on the cluster, injects {@code fault} after round 1, and checks the end equals the no-fault run. */
    private static void assertFaultChangesNothing(String name, Runnable fault) throws Exception {
        Path ref = reference();
        Path run = dir.resolve(name);
        StandaloneCluster.Running job = cluster.start(cluster.masterUrl(), pretrain(run));
        awaitRounds(run, 1, job);
        fault.run();
        StandaloneCluster.Submitted s = job.await(JOB_TIMEOUT);
        assertThat(s.exit()).as(s.stderr()).isZero();
        double d = maxDiff(ref, run);
        System.out.printf("%s after round 1: finished in %s, max |dparam| vs no-fault %.3g%n", name, s.took(), d);
        assertThat(d).isLessThanOrEqualTo(1e-5);
    }

    @Test
    void anExecutorKilledMidRoundChangesNothing() throws Exception {
        assertFaultChangesNothing("executor-killed", () -> {
            List<ProcessHandle> executors = cluster.executors();
            assertThat(executors).isNotEmpty();
            executors.get(0).destroyForcibly();
        });
    }

    @Test
    void aKilledDriverRestartedWithTheSameCommandResumesAndEndsEqual() throws Exception {
        Path ref = reference();
        Path run = dir.resolve("driver-killed");
        StandaloneCluster.Running job = cluster.start(cluster.masterUrl(), pretrain(run));
        awaitRounds(run, 3, job);
        job.process().descendants().forEach(ProcessHandle::destroyForcibly);
        job.process().destroyForcibly().waitFor();
        StandaloneCluster.Submitted s = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT, pretrain(run));
        assertThat(s.exit()).as(s.stderr()).isZero();
        assertThat(s.stderr()).contains("resuming");
        double d = maxDiff(ref, run);
        System.out.printf("driver killed after 3 rounds: resumed run took %s, max |dparam| vs no-fault %.3g%n", s.took(), d);
        assertThat(d).isLessThanOrEqualTo(1e-5);
    }

    /** Last: it leaves the cluster with one worker. */
    @Test
    @Order(Integer.MAX_VALUE) // unannotated tests default to Integer.MAX_VALUE / 2
    void aLostWorkerLeavesTheJobToTheRemainingOne() throws Exception {
        assertFaultChangesNothing("worker-lost", () -> cluster.killWorker(1));
    }

    @Test
    void distributedPretrainEndsWhereTheLocalRunEnds() throws Exception {
        Path ref = reference();
        StandaloneCluster.Submitted local = cluster.submit("local[2,2]", JOB_TIMEOUT, pretrain(dir.resolve("local-run")));
        assertThat(local.exit()).as(local.stderr()).isZero();
        double maxDiff = maxDiff(ref, dir.resolve("local-run"));
        // Each worker computes the same steps from the same broadcast, data and seeds in both runs, and the
        // driver's double-precision sum of two workers is order-independent; what may differ is float rounding
        // inside ND4J between an executor JVM and a local task thread, far below this bound.
        assertThat(maxDiff).isLessThanOrEqualTo(1e-5);
        System.out.printf("local run %s, max |dparam| vs cluster %.3g%n", local.took(), maxDiff);
    }

    @Test
    void badInputFailsThroughSparkSubmitWithExitCodeAndMessage() throws Exception {
        StandaloneCluster.Submitted kappa = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT,
                pretrain(dir.resolve("bad-kappa"), "--set", "model.kappa=0"));
        assertThat(kappa.exit()).isEqualTo(2);
        assertThat(kappa.stderr()).contains("kappa must be a positive number");

        StandaloneCluster.Submitted key = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT,
                pretrain(dir.resolve("bad-key"), "--set", "train.epoch=3"));
        assertThat(key.exit()).isEqualTo(2);
        assertThat(key.stderr()).contains("unknown configuration key").contains("pela.train.epoch");

        StandaloneCluster.Submitted preset = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT,
                "model-info", "--preset", "vit_gigantic");
        assertThat(preset.exit()).isEqualTo(2);
        assertThat(preset.stderr()).contains("unknown preset 'vit_gigantic'");
    }
}
