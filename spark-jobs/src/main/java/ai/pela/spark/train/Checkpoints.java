package ai.pela.spark.train;

import ai.pela.spark.data.DataPosition;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.Flat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints of a run in {@code <run-dir>/checkpoints/round-NNNNNNNN/}: {@code params.safetensors} (the
 * student's flat parameters and AdamW moments), {@code state.json} (step, rounds done, the data position — epoch
 * and samples consumed in it — and the SHA-256 of every file). A checkpoint without a data position (written before
 * positions were kept) still resumes: its position is then read as its rounds of the resuming run's plan. A checkpoint is written as a hidden temporary directory and renamed into place, so a partly written one
 * is never seen under a checkpoint name; on stores whose rename is not atomic the checksums catch a damaged one,
 * which is then skipped in favour of the previous. The last {@code keep} checkpoints are kept.
 */
public final class Checkpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);
    private static final Pattern NAME = Pattern.compile("round-(\\d{8})");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_STATE_BYTES = 1 << 20;
    /**
     * Fault injection for the integration tests: a driver started with {@code -Dpela.fault.halt-in-checkpoint=R}
     * dies, as a killed process would, half-way through writing the parameters of round R's checkpoint.
     */
    static final String HALT_IN_CHECKPOINT = "pela.fault.halt-in-checkpoint";

    private final Storage storage;
    private final Path dir;
    private final int keep;

    public Checkpoints(Storage storage, Path runDir, int keep) {
        this.storage = storage;
        this.dir = new Path(runDir, "checkpoints");
        this.keep = Math.max(1, keep);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Where a run starts: the newest intact checkpoint, or round 0 with {@code initial}'s parameters (in {@code order})
     * and zero optimiser moments.
     *
     * @param configured how the error names the configured model, e.g. "the configured student has"
     * @throws PelaException when the checkpoint holds another number of parameters than the configured model
     */
    public TrainState resumeOrStart(StateDict initial, List<String> order, String configured) {
        int count = (int) Flat.length(initial.asMap(), order);
        Optional<TrainState> latest = latest();
        if (latest.isEmpty()) {
            float[] p = Flat.flatten(initial.asMap(), order).toFloatVector();
            return new TrainState(p, new float[p.length], new float[p.length], 0, 0, DataPosition.START);
        }
        TrainState start = latest.get();
        if (start.params().length != count) {
            throw new PelaException(dir + ": checkpoint has " + start.params().length + " parameters but " + configured
                    + " " + count + "; use a new run-dir or the configuration the run was started with");
        }
        LOG.info("resuming {} from round {} (step {}, {})", dir.getParent(), start.roundsDone(), start.step(),
                start.position() == null ? "data position from the round count"
                        : "epoch " + start.position().epoch() + ", sample " + start.position().samples());
        return start;
    }

    public Path write(TrainState s) {
        storage.mkdirs(dir);
        String name = String.format("round-%08d", s.roundsDone());
        Path tmp = new Path(dir, "." + name + ".tmp-" + java.util.UUID.randomUUID());
        storage.mkdirs(tmp);
        byte[] params = serialise(s);
        if (Integer.getInteger(HALT_IN_CHECKPOINT, -1) == s.roundsDone()) {
            haltHalfWay(new Path(tmp, "params.safetensors"), params);
        }
        write(new Path(tmp, "params.safetensors"), params);
        ObjectNode state = JSON.createObjectNode();
        state.put("format", 1);
        state.put("rounds_done", s.roundsDone());
        state.put("step", s.step());
        if (s.position() != null) {
            state.put("epoch", s.position().epoch());
            state.put("epoch_samples", s.position().samples());
        }
        state.putObject("sha256").put("params.safetensors", sha256(params));
        write(new Path(tmp, "state.json"), state.toPrettyString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path target = new Path(dir, name);
        if (storage.exists(target)) {
            storage.delete(target, true);
        }
        storage.rename(tmp, target);
        prune();
        return target;
    }

    private void write(Path p, byte[] bytes) {
        try (var out = storage.fs(p).create(p, true)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    private void haltHalfWay(Path p, byte[] bytes) {
        try (var out = storage.fs(p).create(p, true)) {
            out.write(bytes, 0, bytes.length / 2);
            out.hflush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p, e);
        }
        LOG.error("fault injection ({}): halting while writing {}", HALT_IN_CHECKPOINT, p);
        Runtime.getRuntime().halt(137);
    }

    private static byte[] serialise(TrainState s) {
        StateDict sd = new StateDict();
        sd.put("params", Nd4j.createFromArray(s.params()));
        sd.put("adamw.m", Nd4j.createFromArray(s.m()));
        sd.put("adamw.v", Nd4j.createFromArray(s.v()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Safetensors.write(sd, Map.of("step", Long.toString(s.step()), "rounds_done", Integer.toString(s.roundsDone())), bytes);
        return bytes.toByteArray();
    }

    /** The newest complete and intact checkpoint, if any; damaged ones are logged and passed over. */
    public Optional<TrainState> latest() {
        if (!storage.exists(dir)) {
            return Optional.empty();
        }
        List<Path> candidates = complete();
        for (int i = candidates.size() - 1; i >= 0; i--) {
            Path c = candidates.get(i);
            try {
                return Optional.of(read(c));
            } catch (PelaException e) {
                LOG.warn("skipping damaged checkpoint {}: {}", c, e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** Checkpoint directories by round, oldest first (temporary directories excluded). */
    List<Path> complete() {
        List<Path> out = new ArrayList<>();
        for (FileStatus st : storage.list(dir)) {
            if (st.isDirectory() && NAME.matcher(st.getPath().getName()).matches()) {
                out.add(st.getPath());
            }
        }
        return out;
    }

    public TrainState read(Path c) {
        JsonNode state;
        try {
            state = JSON.readTree(storage.readAll(new Path(c, "state.json"), MAX_STATE_BYTES));
        } catch (IOException | UncheckedIOException e) {
            throw new PelaException(c + ": unreadable state.json: " + e.getMessage(), e);
        }
        byte[] params = readBytes(new Path(c, "params.safetensors"));
        String expected = state.path("sha256").path("params.safetensors").asText("");
        if (!sha256(params).equals(expected)) {
            throw new PelaException(c + ": params.safetensors does not match the checksum in state.json");
        }
        StateDict sd = Safetensors.read(new java.io.ByteArrayInputStream(params), params.length, c + "/params.safetensors");
        return new TrainState(sd.get("params").toFloatVector(), sd.get("adamw.m").toFloatVector(),
                sd.get("adamw.v").toFloatVector(), state.path("step").asLong(), state.path("rounds_done").asInt(),
                position(state));
    }

    /** The data position of a state.json, or null for one written before positions were kept. */
    private static DataPosition position(JsonNode state) {
        if (!state.has("epoch_samples")) {
            return null;
        }
        return new DataPosition(state.path("epoch").asInt(), state.path("epoch_samples").asLong());
    }

    private byte[] readBytes(Path p) {
        long len = storage.length(p);
        if (len > Integer.MAX_VALUE - 16) {
            throw new PelaException(p + ": checkpoint file too large to read at once (" + len + " bytes)");
        }
        try (InputStream in = storage.open(p)) {
            return in.readNBytes((int) len);
        } catch (IOException e) {
            throw new PelaException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    private void prune() {
        List<Path> all = complete();
        for (int i = 0; i < all.size() - keep; i++) {
            storage.delete(all.get(i), true);
        }
        for (FileStatus st : storage.list(dir)) {
            // Temporary directories left by a writer that was killed: never a checkpoint, safe to remove.
            if (st.getPath().getName().startsWith(".round-")) {
                storage.delete(st.getPath(), true);
            }
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static int roundOf(Path c) {
        Matcher m = NAME.matcher(c.getName());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
