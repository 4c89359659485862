package ai.pela.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on 127.0.0.1 made from the build's own jars: a SPARK_HOME whose {@code jars/}
 * links to spark-jobs/target/lib, one Master and N Workers as separate JVMs. Jobs are submitted the way users submit
 * them, from the unpacked distribution tarball ({@link #distribution}), through
 * {@code org.apache.spark.deploy.SparkSubmit} with its application jar. Every process started
 * here is stopped by {@link #close()} (also from a shutdown hook, should the test JVM die first).
 */
final class StandaloneCluster implements AutoCloseable {
    static final String OPENS = "--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED "
            + "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED "
            + "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED";

    /** A finished spark-submit: its exit code, output and duration. */
    record Submitted(int exit, String stdout, String stderr, Duration took) {
    }

    private final Path dir;
    private final Path sparkHome;
    private final int masterPort;
    private final int masterUi;
    private final List<Process> processes = new ArrayList<>();
    private final List<Process> submits = new ArrayList<>();
    private final Thread hook = new Thread(this::stopAll);

    private StandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.sparkHome = makeSparkHome(dir.resolve("spark-home"));
        this.masterPort = freePort();
        this.masterUi = freePort();
        Runtime.getRuntime().addShutdownHook(hook);
    }

    static StandaloneCluster start(Path dir, int workers) throws Exception {
        StandaloneCluster c = new StandaloneCluster(dir);
        try {
            c.launch("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                    String.valueOf(c.masterPort), "--webui-port", String.valueOf(c.masterUi));
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(dir.resolve("worker-" + i));
                c.launch("worker-" + i, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                        "--memory", "3g", "--webui-port", String.valueOf(freePort()), "--work-dir", work.toString(),
                        c.masterUrl());
            }
            c.awaitWorkers(workers, Duration.ofSeconds(90));
            return c;
        } catch (Exception e) {
            c.close();
            throw e;
        }
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    /** The application jar of the distribution users deploy, unpacked from the build's tarball. */
    static Path appJar() {
        return distribution().resolve("lib/pela-spark-app.jar");
    }

    /**
     * The unpacked {@code pela-spark-<version>-bin.tar.gz} (once per test JVM): jobs are submitted from it, so the
     * artifact users deploy is the one the tests run.
     */
    static synchronized Path distribution() {
        Path into = Path.of(System.getProperty("pela.distDir"));
        Path tarball = Path.of(System.getProperty("pela.distribution"));
        String name = tarball.getFileName().toString().replace("-bin.tar.gz", "");
        Path unpacked = into.resolve(name);
        if (!Files.isRegularFile(unpacked.resolve("lib/pela-spark-app.jar"))) {
            try {
                Files.createDirectories(into);
                Process tar = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", into.toString())
                        .redirectErrorStream(true).start();
                String out = new String(tar.getInputStream().readAllBytes());
                if (tar.waitFor() != 0) {
                    throw new IllegalStateException("cannot unpack " + tarball + ": " + out);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return unpacked;
    }

    static Path repoRoot() {
        return Path.of(System.getProperty("pela.repoRoot")).toAbsolutePath().normalize();
    }

    private static Path makeSparkHome(Path home) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        try (Stream<Path> lib = Files.list(Path.of(System.getProperty("pela.sparkJars")))) {
            for (Path jar : (Iterable<Path>) lib::iterator) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
            }
        }
        Files.writeString(home.resolve("RELEASE"), "Spark from the pela-spark build's jars\n");
        return home;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private ProcessBuilder javaProcess(String heap, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx" + heap));
        cmd.addAll(List.of(OPENS.split(" ")));
        cmd.addAll(List.of("-cp", sparkHome.resolve("jars") + "/*"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.12");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("OMP_NUM_THREADS", "1");
        env.put("OMP_WAIT_POLICY", "PASSIVE");
        return pb;
    }

    private void launch(String name, String mainClass, String... args) throws IOException {
        List<String> a = new ArrayList<>(List.of(mainClass));
        a.addAll(List.of(args));
        ProcessBuilder pb = javaProcess("512m", a);
        pb.redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        processes.add(pb.start());
    }

    private void awaitWorkers(int n, Duration timeout) throws Exception {
        ObjectMapper json = new ObjectMapper();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (InputStream in = new URL("http://127.0.0.1:" + masterUi + "/json/").openStream()) {
                JsonNode state = json.readTree(in);
                if (state.path("aliveworkers").asInt() >= n) {
                    return;
                }
            } catch (IOException notUpYet) {
                // the master's UI is not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("the standalone cluster did not register " + n + " workers within " + timeout
                + "; logs in " + dir);
    }

    /** A spark-submit that is still running: the driver's process, and where its output goes. */
    record Running(Process process, Path out, Path err, long startNanos, java.time.Instant started) {
        Submitted await(Duration timeout) throws Exception {
            if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("spark-submit did not finish within " + timeout + "; stderr: "
                        + Files.readString(err));
            }
            return new Submitted(process.exitValue(), Files.readString(out), Files.readString(err),
                    Duration.ofNanos(System.nanoTime() - startNanos));
        }
    }

    /** The executor JVMs the workers of this cluster have launched. */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process p : processes) {
            p.descendants().filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                    .forEach(out::add);
        }
        return out;
    }

    /**
     * The executor JVMs launched for {@code job}: those started after it. An earlier job's executors can still be
     * shutting down when the next job starts, and killing one of them would test nothing.
     */
    List<ProcessHandle> executorsOf(Running job) {
        java.time.Instant launched = job.started().minusSeconds(1);
        return executors().stream()
                .filter(h -> h.info().startInstant().map(t -> t.isAfter(launched)).orElse(false))
                .toList();
    }

    /** Kills worker {@code i} and everything it launched, as a lost machine would. */
    void killWorker(int i) {
        Process w = processes.get(1 + i);
        w.descendants().forEach(ProcessHandle::destroyForcibly);
        w.destroyForcibly();
    }

    /** Runs {@code spark-submit --class ai.pela.cli.PelaCli <app jar> args} against {@code master}. */
    Submitted submit(String master, Duration timeout, String... pelaArgs) throws Exception {
        return start(master, pelaArgs).await(timeout);
    }

    Running start(String master, String... pelaArgs) throws Exception {
        return start(master, List.of(), pelaArgs);
    }

    /** As above, with extra JVM options for the driver (in client mode spark-submit's own JVM is the driver). */
    Running start(String master, List<String> driverJvmOptions, String... pelaArgs) throws Exception {
        List<String> a = new ArrayList<>(driverJvmOptions);
        a.addAll(List.of("-Dlog4j2.configurationFile=" + distribution().resolve("conf/log4j2.xml"),
                "org.apache.spark.deploy.SparkSubmit", "--master", master, "--deploy-mode", "client",
                "--class", "ai.pela.cli.PelaCli",
                "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.executor.memory=2g",
                "--conf", "spark.executor.extraJavaOptions=" + OPENS,
                "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
                "--conf", "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE",
                "--conf", "spark.executorEnv.SPARK_LOCAL_IP=127.0.0.1",
                appJar().toString()));
        a.addAll(List.of(pelaArgs));
        ProcessBuilder pb = javaProcess("3g", a);
        Path out = Files.createTempFile(dir, "submit", ".out");
        Path err = Files.createTempFile(dir, "submit", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        submits.add(p);
        return new Running(p, out, err, t0, java.time.Instant.now());
    }

    private void stopAll() {
        List<Process> all = new ArrayList<>(submits);
        all.addAll(processes);
        for (Process p : all) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : all) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running already
        }
    }
}
