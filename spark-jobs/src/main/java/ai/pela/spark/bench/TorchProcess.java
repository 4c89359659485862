package ai.pela.spark.bench;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch reference ({@code bench/pela_torch.py --serve}) as a child process that sleeps on its stdin between
 * requests, so our repetitions and its repetitions alternate in one run without competing for the cores.
 */
public final class TorchProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final BufferedReader out;
    private final Writer in;
    private final JsonNode header;

    private TorchProcess(Process process) throws IOException {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.header = JSON.readTree(line());
    }

    /** Starts the script with {@code args} after {@code --serve --threads n}; returns once it has warmed up. */
    public static TorchProcess start(Path python, Path script, int threads, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString(), "--serve", "--threads",
                Integer.toString(threads)));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        // OpenBLAS' own pthread pool and torch's OpenMP pool: both get the same thread count as our side.
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        try {
            return new TorchProcess(pb.start());
        } catch (IOException e) {
            throw new PelaException("cannot run the PyTorch reference " + cmd + ": " + e.getMessage(), e);
        }
    }

    /** The script's first line: versions, threads, the BLAS library it mapped, parameter counts. */
    public JsonNode header() {
        return header;
    }

    /** Runs {@code n} timed repetitions there; seconds per repetition, by what the script timed ("step", "torch" …). */
    public Map<String, double[]> time(int n) {
        try {
            in.write(n + "\n");
            in.flush();
            JsonNode r = JSON.readTree(line());
            Map<String, double[]> times = new LinkedHashMap<>();
            r.fields().forEachRemaining(e -> {
                double[] t = new double[e.getValue().size()];
                for (int i = 0; i < t.length; i++) {
                    t[i] = e.getValue().get(i).asDouble();
                }
                times.put(e.getKey(), t);
            });
            return times;
        } catch (IOException e) {
            throw new PelaException("the PyTorch reference failed: " + e.getMessage(), e);
        }
    }

    private String line() throws IOException {
        String l = out.readLine();
        if (l == null) {
            throw new PelaException("the PyTorch reference exited early (status " + waitExit() + "); see its stderr above");
        }
        return l;
    }

    private int waitExit() {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            in.write("quit\n");
            in.flush();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
