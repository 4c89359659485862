package ai.pela.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.config.DataSettings;
import ai.pela.spark.config.Recipe;
import ai.pela.spark.data.Sample;
import ai.pela.spark.demo.FashionMnistExport;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.DataSetup;
import ai.pela.spark.train.Checkpoints;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.spark.train.TrainState;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.OpenFileEntry;
import org.apache.hadoop.hdfs.protocol.OpenFilesIterator;
import org.apache.hadoop.hdfs.server.datanode.DataNodeFaultInjector;
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
 * The jobs on a real HDFS: a NameNode and two DataNodes in this JVM ({@link MiniHdfs}), a standalone Spark cluster
 * (Master + 2 Workers, separate JVMs) whose driver and executors reach it at {@code hdfs://127.0.0.1:PORT}, and
 * every path of a job on HDFS — the recipe, the data (ImageNet folders and WebDataset shards), the teacher's
 * config and weights, the run directory with its checkpoints and metrics, the evaluated model and its result.
 *
 * <p>Faults: the driver killed mid-run and restarted (it resumes from the HDFS checkpoint and ends where the
 * uninterrupted run ends); a DataNode stopped while a checkpoint is being written (the write recovers on the
 * other replica, the job completes, and every checkpoint verifies against its SHA-256 and equals the
 * uninterrupted run's).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HdfsIT {
    /** Where a fetched Fashion-MNIST stays between runs (surefire and failsafe run in the module directory). */
    private static final Path FASHION_CACHE = Path.of("target", "fashion-mnist-cache").toAbsolutePath();
    // A hang guard, not a speed check: a job takes 1–2 minutes idle and several times that on shared cores.
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHECKPOINT = Pattern.compile("round-(\\d{8})");
    private static final int TRAIN_IMAGES = 64;
    private static final int VAL_IMAGES = 64;
    /** 64 images / (2 workers x 2 local steps x batch 8) = 2 rounds per epoch, 2 epochs. */
    private static final int ROUNDS = 4;

    @TempDir
    static Path dir;
    static MiniHdfs hdfs;
    static DistributedFileSystem fs;
    static Storage storage;
    static StandaloneCluster cluster;
    static Path localData;
    static String recipe;
    static String valShards;

    @BeforeAll
    static void start() throws Exception {
        long t0 = System.nanoTime();
        // Real Fashion-MNIST items in ImageNet layout: Debian's dataset-fashion-mnist, or the package fetched once
        // into this module's target/ (as the demo fetches it), so that `mvn verify` needs nothing installed.
        localData = FashionMnistExport.export(FashionMnistExport.locateOrFetch(FASHION_CACHE),
                dir.resolve("fmnist"), TRAIN_IMAGES, VAL_IMAGES).root();
        // The Spark JVMs start while HDFS starts in this one.
        CompletableFuture<StandaloneCluster> spark = CompletableFuture.supplyAsync(() -> {
            try {
                return StandaloneCluster.start(dir.resolve("cluster"), 2);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        try {
            hdfs = MiniHdfs.start(dir.resolve("hdfs"), 2, 2);
        } finally {
            cluster = spark.join();
        }
        long up = System.nanoTime();
        fs = hdfs.fs();
        storage = new Storage(hdfs.conf());

        upload(localData, hdfs.at("/data/fmnist"));
        Path teacher = StandaloneCluster.repoRoot().resolve("conf/models/vit-small-fmnist");
        for (String f : List.of("config.json", "model.safetensors")) {
            fs.copyFromLocalFile(hpath(teacher.resolve(f).toUri().toString()), hpath(hdfs.at("/models/teacher/" + f)));
        }
        // The validation images again, as two WebDataset shards (the same PNG bytes and labels).
        List<Sample> val = localVal();
        writeShard(hdfs.at("/data/shards/val-000000.tar"), val.subList(0, VAL_IMAGES / 2), 0);
        writeShard(hdfs.at("/data/shards/val-000001.tar"), val.subList(VAL_IMAGES / 2, VAL_IMAGES), VAL_IMAGES / 2);
        valShards = hdfs.at("/data/shards/val-{000000..000001}.tar");

        recipe = hdfs.at("/recipes/pretrain-fmnist.conf");
        writeText(recipe, String.join("\n",
                "# HdfsIT: every path on HDFS; run-dir is set per run",
                "pela {",
                "  seed = 5",
                "  model { config = \"" + hdfs.at("/models/teacher/config.json") + "\"",
                "          weights = \"" + hdfs.at("/models/teacher/model.safetensors") + "\", kappa = 2 }",
                "  data { format = imagefolder, root = \"" + hdfs.at("/data/fmnist") + "\", crop-scale = [0.85, 1.0]",
                "         val-shards = \"" + valShards + "\" }",
                "  train { workers = 2, local-steps = 2, batch-size = 8, epochs = 2, warmup-epochs = 0.5 }",
                "  loss { alpha = 1, beta = 1 }",
                "  checkpoint { every-rounds = 1, keep = 10 }",
                "  eval { batch-size = 32 }",
                "}", ""));
        System.out.printf("HDFS at %s and the Spark cluster up in %.1f s, data uploaded in %.1f s%n",
                hdfs.uri(), (up - t0) / 1e9, (System.nanoTime() - up) / 1e9);
    }

    @AfterAll
    static void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            if (hdfs != null) {
                hdfs.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void storageOnHdfsRenamesWithoutNestingAndReplacesFilesAtomically() throws Exception {
        String base = hdfs.at("/storage-test");
        org.apache.hadoop.fs.Path a = hpath(base + "/a");
        org.apache.hadoop.fs.Path b = hpath(base + "/b");
        storage.mkdirs(a);
        storage.mkdirs(b);
        writeText(base + "/a/x", "x");
        // HDFS's rename onto an existing directory moves the source INTO it and reports success; a checkpoint
        // renamed that way would sit at round-N/.round-N.tmp-…/ — never a checkpoint, silently.
        assertThatThrownBy(() -> storage.rename(a, b)).as("rename onto an existing directory")
                .hasMessageContaining(b.toString());
        assertThat(fs.exists(hpath(base + "/b/a"))).as("nothing was moved into the existing directory").isFalse();
        assertThat(fs.exists(hpath(base + "/a/x"))).as("the source is untouched").isTrue();

        org.apache.hadoop.fs.Path f = hpath(base + "/f.txt");
        storage.writeAtomically(f, out -> out.write("old".getBytes(StandardCharsets.UTF_8)));
        MiniHdfs.watch("/storage-test/");
        storage.writeAtomically(f, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertThat(new String(storage.readAll(f, 100), StandardCharsets.UTF_8)).isEqualTo("new");
        // The old file is replaced by the rename itself, one NameNode operation: never deleted first, so a reader
        // (or a driver killed at that moment) never finds it missing.
        assertThat(MiniHdfs.watched()).as("NameNode operations replacing f.txt")
                .noneMatch(op -> op.cmd().equals("delete") && op.src().equals("/storage-test/f.txt"))
                .filteredOn(op -> op.cmd().startsWith("rename"))
                .singleElement().satisfies(op -> assertThat(op.dst()).isEqualTo("/storage-test/f.txt"));
        assertThat(fs.listStatus(hpath(base))).extracting(st -> st.getPath().getName())
                .as("no temporary file left beside the target").containsExactlyInAnyOrder("a", "b", "f.txt");
    }

    @Test
    @Order(2)
    void checkpointsOnHdfsSkipADamagedNewestOne() throws Exception {
        org.apache.hadoop.fs.Path run = hpath(hdfs.at("/checkpoint-test"));
        Checkpoints c = new Checkpoints(storage, run, 5);
        float[] p1 = {1, 2, 3};
        float[] p2 = {4, 5, 6};
        c.write(new TrainState(p1, new float[3], new float[3], 10, 1));
        org.apache.hadoop.fs.Path second = c.write(new TrainState(p2, new float[3], new float[3], 20, 2));
        assertThat(c.latest()).get().extracting(TrainState::roundsDone).isEqualTo(2);
        assertThat(verifiedCheckpoints(run.toString())).containsOnlyKeys("round-00000001", "round-00000002");

        // Flip one byte of the newest checkpoint's parameters in place on HDFS (rewrite, same length).
        org.apache.hadoop.fs.Path params = new org.apache.hadoop.fs.Path(second, "params.safetensors");
        byte[] bytes = storage.readAll(params, 1 << 20);
        bytes[bytes.length - 1] ^= 0x40;
        try (FSDataOutputStream out = fs.create(params, true)) {
            out.write(bytes);
        }
        assertThat(c.latest()).as("the damaged newest checkpoint is passed over for the previous one")
                .get().extracting(TrainState::roundsDone).isEqualTo(1);
        assertThat(c.latest().orElseThrow().params()).containsExactly(p1);
    }

    @Test
    @Order(3)
    void pretrainWithEveryPathOnHdfsWritesVerifiedCheckpointsThere() throws Exception {
        String run = reference();
        Map<String, String> checkpoints = verifiedCheckpoints(run);
        assertThat(checkpoints).as("one checkpoint per round (every-rounds = 1, keep = 10)").hasSize(ROUNDS);
        assertThat(metricsRounds(run)).containsExactly(0, 1, 2, 3);
        assertThat(fs.exists(hpath(run + "/model/model.safetensors"))).isTrue();
        assertThat(fs.exists(hpath(run + "/config.conf"))).isTrue();
        String resolved = new String(storage.readAll(hpath(run + "/config.conf"), 1 << 20), StandardCharsets.UTF_8);
        assertThat(resolved).as("the recipe was read from HDFS").contains("crop-scale").contains(hdfs.at("/data/fmnist"));
    }

    @Test
    @Order(4)
    void evaluateReadsTheStudentAndWebDatasetShardsFromHdfs() throws Exception {
        String run = reference();
        String out = hdfs.at("/results/eval-student.json");
        StandaloneCluster.Submitted s = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT, "evaluate",
                "--recipe", recipe, "--set", "run-dir=\"" + hdfs.at("/runs/eval") + "\"",
                "--set", "data.format=webdataset", "--model", run + "/model", "--out", out);
        assertThat(s.exit()).as(s.stderr()).isZero();
        JsonNode m = JSON.readTree(storage.readAll(hpath(out), 1 << 20));
        assertThat(m.path("model").asText()).isEqualTo(run + "/model/model.safetensors");
        assertThat(m.path("examples").asInt()).as("every image of both shards").isEqualTo(VAL_IMAGES);
        assertThat(m.path("skipped").asInt()).isZero();

        // The same model and images evaluated here, from local files: the counts must be the same.
        ModelConfig cfg;
        try (InputStream in = fs.open(hpath(run + "/model/config.json"))) {
            cfg = ConfigJson.read(in, run + "/model/config.json");
        }
        StateDict weights = readModel(run);
        Recipe local = Recipe.parse("pela.data.root = \"" + localData + "\"");
        DataSetup val = DataSetup.forEvaluation(Storage.local(), DataSettings.from(local), cfg, "val");
        LoadedBatch b = val.source().load(val.train(), 0);
        INDArray logits = VitModel.create(cfg, weights, "student").logits(b.images());
        int top1 = 0;
        for (int i = 0; i < b.size(); i++) {
            top1 += logits.getRow(i).argMax().getInt(0) == b.labels()[i] ? 1 : 0;
        }
        double expected = (double) top1 / b.size();
        System.out.printf("evaluate on HDFS shards: top-1 %.4f (here, from local files: %.4f), took %s%n",
                m.path("top1").asDouble(), expected, s.took());
        assertThat(m.path("top1").asDouble()).as("top-1 on the cluster from HDFS vs here from local files")
                .isEqualTo(expected);
        assertThat(expected).as("a trained student, not a broken one (chance is 0.1)").isGreaterThan(0.5);
    }

    @Test
    @Order(5)
    void aKilledDriverRestartedWithTheSameCommandResumesFromTheHdfsCheckpointAndEndsEqual() throws Exception {
        String ref = reference();
        FaultedRun f = faultedRun();
        assertThat(f.beforeRestart()).as("the killed run left at least one complete checkpoint on HDFS").isNotEmpty();
        assertThat(f.restarted().exit()).as(f.restarted().stderr()).isZero();
        Matcher resumed = Pattern.compile("resuming \\S+ from round (\\d+)").matcher(f.restarted().stderr());
        assertThat(resumed.find()).as("the restarted driver resumes; stderr: %s", f.restarted().stderr()).isTrue();
        int from = Integer.parseInt(resumed.group(1));
        assertThat(from).as("resumed from the newest checkpoint the killed run wrote")
                .isEqualTo(f.beforeRestart().keySet().stream().mapToInt(HdfsIT::roundOf).max().orElseThrow());
        assertThat(metricsRounds(f.run())).as("metrics.jsonl continues from the checkpoint, no round twice")
                .containsExactly(0, 1, 2, 3);
        assertCheckpointsEqualTheReference(ref, f.run());
        double d = maxDiff(ref, f.run());
        System.out.printf("driver killed in round 2: resumed from round %d, took %s, max |dparam| vs no-fault %.3g%n",
                from, f.restarted().took(), d);
        assertThat(d).isLessThanOrEqualTo(1e-5);
    }

    /**
     * The DataNode was stopped in the restarted run of {@link #faultedRun()}: both faults, one job, to keep the
     * module's time down; this test asserts what the DataNode's loss must not change.
     */
    @Test
    @Order(6)
    void aDataNodeStoppedWhileACheckpointIsWrittenChangesNothing() throws Exception {
        String ref = reference();
        FaultedRun f = faultedRun();
        System.out.printf("DataNode %s stopped while %s was being written%n", f.stoppedDataNode(), f.caughtWriting());
        assertThat(f.caughtWriting()).as("a checkpoint's parameters were in flight when the DataNode stopped")
                .contains("/checkpoints/.round-").endsWith("/params.safetensors");
        assertThat(f.restarted().exit()).as(f.restarted().stderr()).isZero();
        assertThat(f.restarted().stderr()).as("the driver's HDFS client lost %s from the pipeline of a block being "
                + "written, and recovered", f.stoppedDataNode())
                .containsPattern("Error Recovery for \\S+ in pipeline .*: datanode \\d+\\(DatanodeInfoWithStorage\\["
                + Pattern.quote(f.stoppedDataNode()) + ",[^)]*\\) is bad");
        Map<String, String> checkpoints = verifiedCheckpoints(f.run());
        assertThat(checkpoints).hasSize(ROUNDS);
        for (String name : checkpoints.keySet()) {
            // spark.hadoop.dfs.replication reached the driver's writes (the recipe, read from HDFS before the
            // SparkContext existed, must not have fixed the cached FileSystem's configuration to the default 3).
            assertThat(fs.getFileStatus(hpath(f.run() + "/checkpoints/" + name + "/params.safetensors")).getReplication())
                    .as(name + " written with spark.hadoop.dfs.replication").isEqualTo((short) 2);
        }
        assertCheckpointsEqualTheReference(ref, f.run());
        assertThat(maxDiff(ref, f.run())).isLessThanOrEqualTo(1e-5);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The run with faults: its location, what the killed driver left, the restart, and the DataNode stopped. */
    record FaultedRun(String run, Map<String, String> beforeRestart, StandaloneCluster.Submitted restarted,
            String stoppedDataNode, String caughtWriting) {
    }

    private static FaultedRun faulted;

    /**
     * pretrain killed after its first round and started again with the same command; while the restarted driver
     * writes a checkpoint, a DataNode is stopped.
     *
     * <p>Replication 2 on 2 DataNodes: every block of the checkpoint is on both, so stopping either one breaks the
     * write in progress, and the client rebuilds the pipeline from the other and completes it. (With one DataNode
     * and replication 1 the write — and the job — would fail; with the client's default replication of 3 on 2
     * DataNodes the client looks for a replacement DataNode, finds none and fails the write. Both end in a clear
     * error and the previous checkpoint; completing is the stronger claim, so that is what this run checks.)
     */
    private static synchronized FaultedRun faultedRun() throws Exception {
        if (faulted != null) {
            return faulted;
        }
        String run = hdfs.at("/runs/faulted");
        List<String> replication2 = List.of("-Dspark.hadoop.dfs.replication=2"); // the driver JVM: spark.* properties are SparkConf
        StandaloneCluster.Running killed = cluster.start(cluster.masterUrl(), replication2, pretrain(run));
        awaitCheckpoint(run, 1, killed); // then killed during round 2
        killed.process().descendants().forEach(ProcessHandle::destroyForcibly);
        killed.process().destroyForcibly().waitFor();
        Map<String, String> before = verifiedCheckpoints(run);

        // Acks held back on the DataNodes make a checkpoint's write last long enough to be caught in flight.
        SlowAcks slow = new SlowAcks();
        DataNodeFaultInjector previous = DataNodeFaultInjector.get();
        DataNodeFaultInjector.set(slow);
        try {
            StandaloneCluster.Running job = cluster.start(cluster.masterUrl(), replication2, pretrain(run));
            slow.delayMillis = 100;
            String caught = awaitCheckpointBeingWritten(run, job);
            // The file is open; once a DataNode acknowledges a packet its block is streaming through the pipeline
            // (the driver writes one file at a time), with most of its ~15 packets still to come.
            int acks = slow.acks.get();
            long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
            while (slow.acks.get() == acks && job.process().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            String stopped = hdfs.stopDataNode(1);
            slow.delayMillis = 0;
            faulted = new FaultedRun(run, before, job.await(JOB_TIMEOUT), stopped, caught);
            return faulted;
        } finally {
            slow.delayMillis = 0;
            DataNodeFaultInjector.set(previous);
        }
    }

    /** The no-fault run, which every fault test must end equal to. */
    private static synchronized String reference() throws Exception {
        String run = hdfs.at("/runs/reference");
        if (!fs.exists(hpath(run + "/model/model.safetensors"))) {
            StandaloneCluster.Submitted s = cluster.submit(cluster.masterUrl(), JOB_TIMEOUT, pretrain(run));
            assertThat(s.exit()).as(s.stderr()).isZero();
            System.out.printf("no-fault run on HDFS: %s%n", s.took());
        }
        return run;
    }

    private static String[] pretrain(String runDir) {
        return new String[] {"pretrain", "--recipe", recipe, "--set", "run-dir=\"" + runDir + "\""};
    }

    private static org.apache.hadoop.fs.Path hpath(String location) {
        return new org.apache.hadoop.fs.Path(location);
    }

    /** Copies a local directory tree to HDFS, several files at a time (each small file is a NameNode round trip). */
    private static void upload(Path localRoot, String location) throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(localRoot)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> copies = new ArrayList<>();
            for (Path f : files) {
                org.apache.hadoop.fs.Path to = hpath(location + "/" + localRoot.relativize(f));
                copies.add(pool.submit(() -> {
                    fs.copyFromLocalFile(hpath(f.toUri().toString()), to);
                    return null;
                }));
            }
            for (Future<?> c : copies) {
                c.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void writeText(String location, String text) throws IOException {
        try (FSDataOutputStream out = fs.create(hpath(location), true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static List<Sample> localVal() {
        Recipe local = Recipe.parse("pela.data.root = \"" + localData + "\"");
        ModelConfig cfg = ConfigJson.read(StandaloneCluster.repoRoot().resolve("conf/models/vit-small-fmnist/config.json"));
        return DataSetup.forEvaluation(Storage.local(), DataSettings.from(local), cfg, "val").train();
    }

    /** A WebDataset shard of {@code <key>.png} + {@code <key>.cls} members, written straight to HDFS. */
    private static void writeShard(String location, List<Sample> samples, int firstKey) throws IOException {
        try (OutputStream os = fs.create(hpath(location), true); TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
            int key = firstKey;
            for (Sample s : samples) {
                String k = String.format("%06d", key++);
                byte[] png = Files.readAllBytes(Path.of(java.net.URI.create(s.uri())));
                for (Map.Entry<String, byte[]> m : List.of(Map.entry(k + ".png", png),
                        Map.entry(k + ".cls", Integer.toString(s.label()).getBytes(StandardCharsets.US_ASCII)))) {
                    TarArchiveEntry e = new TarArchiveEntry(m.getKey());
                    e.setSize(m.getValue().length);
                    tar.putArchiveEntry(e);
                    tar.write(m.getValue());
                    tar.closeArchiveEntry();
                }
            }
        }
    }

    /** Round numbers in the run's metrics.jsonl on HDFS. */
    private static List<Integer> metricsRounds(String run) throws IOException {
        List<Integer> rounds = new ArrayList<>();
        for (String line : new String(storage.readAll(hpath(run + "/metrics.jsonl"), 1 << 20), StandardCharsets.UTF_8)
                .split("\n")) {
            if (!line.isBlank()) {
                rounds.add(JSON.readTree(line).path("round").asInt());
            }
        }
        return rounds;
    }

    /** Waits until the run's checkpoint of round {@code round} is in place on HDFS. */
    private static void awaitCheckpoint(String run, int round, StandaloneCluster.Running job) throws Exception {
        org.apache.hadoop.fs.Path c = hpath(run + String.format("/checkpoints/round-%08d", round));
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && job.process().isAlive()) {
            if (fs.exists(c)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(c + " did not appear; stderr: " + Files.readString(job.err()));
    }

    /** Waits until a checkpoint's parameter file is open for writing on the NameNode; returns its path. */
    private static String awaitCheckpointBeingWritten(String run, StandaloneCluster.Running job) throws Exception {
        String under = hpath(run + "/checkpoints").toUri().getPath();
        long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && job.process().isAlive()) {
            RemoteIterator<OpenFileEntry> open = fs.listOpenFiles(
                    EnumSet.of(OpenFilesIterator.OpenFilesType.ALL_OPEN_FILES), under);
            while (open.hasNext()) {
                String p = open.next().getFilePath();
                if (p.contains("/.round-") && p.endsWith("/params.safetensors")) {
                    return p;
                }
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("no checkpoint of " + run + " was seen being written; stderr: "
                + Files.readString(job.err()));
    }

    /**
     * Every checkpoint directory of the run, verified here independently of the Checkpoints class: the SHA-256 of
     * params.safetensors equals the one state.json records. Fails on a temporary directory left behind.
     * Returns checkpoint name to checksum.
     */
    private static Map<String, String> verifiedCheckpoints(String run) throws Exception {
        Map<String, String> out = new TreeMap<>();
        org.apache.hadoop.fs.Path dir = hpath(run + "/checkpoints");
        if (!fs.exists(dir)) {
            return out;
        }
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            if (name.startsWith(".")) {
                continue; // a killed writer's temporary directory: never read as a checkpoint
            }
            assertThat(name).as("only checkpoint directories in %s", dir).matches(CHECKPOINT);
            JsonNode state = JSON.readTree(storage.readAll(new org.apache.hadoop.fs.Path(st.getPath(), "state.json"), 1 << 20));
            byte[] params = storage.readAll(new org.apache.hadoop.fs.Path(st.getPath(), "params.safetensors"), 64 << 20);
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(params));
            assertThat(sha).as("%s: SHA-256 of params.safetensors vs state.json", st.getPath())
                    .isEqualTo(state.path("sha256").path("params.safetensors").asText());
            assertThat(state.path("rounds_done").asInt()).as("%s: rounds_done", st.getPath()).isEqualTo(roundOf(name));
            out.put(name, sha);
        }
        return out;
    }

    private static int roundOf(String checkpointName) {
        Matcher m = CHECKPOINT.matcher(checkpointName);
        assertThat(m.matches()).as(checkpointName).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** Every checkpoint of {@code run} holds the parameters and moments of the reference's checkpoint of that round. */
    private static void assertCheckpointsEqualTheReference(String ref, String run) {
        Checkpoints a = new Checkpoints(storage, hpath(ref), 10);
        Checkpoints b = new Checkpoints(storage, hpath(run), 10);
        List<String> names;
        try {
            names = new ArrayList<>(verifiedCheckpoints(run).keySet());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(names).isNotEmpty();
        for (String name : names) {
            TrainState x = a.read(new org.apache.hadoop.fs.Path(a.dir(), name));
            TrainState y = b.read(new org.apache.hadoop.fs.Path(b.dir(), name));
            assertThat(y.step()).as(name).isEqualTo(x.step());
            assertThat(maxAbs(x.params(), y.params())).as("%s: parameters vs the no-fault run", name).isLessThanOrEqualTo(1e-5);
            assertThat(maxAbs(x.m(), y.m())).as("%s: AdamW m vs the no-fault run", name).isLessThanOrEqualTo(1e-5);
            assertThat(maxAbs(x.v(), y.v())).as("%s: AdamW v vs the no-fault run", name).isLessThanOrEqualTo(1e-5);
        }
    }

    private static double maxAbs(float[] a, float[] b) {
        assertThat(b).hasSameSizeAs(a);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs((double) a[i] - b[i]));
        }
        return d;
    }

    private static StateDict readModel(String run) throws IOException {
        org.apache.hadoop.fs.Path p = hpath(run + "/model/model.safetensors");
        try (InputStream in = fs.open(p)) {
            return Safetensors.read(in, fs.getFileStatus(p).getLen(), p.toString());
        }
    }

    private static double maxDiff(String runA, String runB) throws IOException {
        StateDict a = readModel(runA);
        StateDict b = readModel(runB);
        assertThat(b.keys()).containsExactlyInAnyOrderElementsOf(a.keys());
        double maxDiff = 0;
        for (String k : a.keys()) {
            INDArray d = Transforms.abs(a.get(k).sub(b.get(k)));
            maxDiff = Math.max(maxDiff, d.maxNumber().doubleValue());
        }
        return maxDiff;
    }

    /** Holds back every DataNode's acknowledgement of a packet by {@link #delayMillis} (0: no delay). */
    static final class SlowAcks extends DataNodeFaultInjector {
        volatile long delayMillis;
        /** Acknowledgements held back so far. */
        final java.util.concurrent.atomic.AtomicInteger acks = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void delaySendingAckToUpstream(String upstreamAddr) throws IOException {
            long ms = delayMillis;
            if (ms > 0) {
                acks.incrementAndGet();
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("DataNode stopping");
                }
            }
        }
    }
}
