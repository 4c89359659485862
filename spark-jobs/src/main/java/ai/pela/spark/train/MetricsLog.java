package ai.pela.spark.train;

import ai.pela.spark.io.Storage;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/**
 * {@code <run-dir>/metrics.jsonl}: one JSON object per round. Rewritten atomically each round (appends are not
 * available on every Hadoop store); on resume the lines after the checkpoint's round are dropped, so the file
 * always matches the state the run continues from.
 */
public final class MetricsLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Storage storage;
    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private final List<RoundMetrics> rounds = new ArrayList<>();

    public MetricsLog(Storage storage, Path runDir, int keepRounds) {
        this.storage = storage;
        this.file = new Path(runDir, "metrics.jsonl");
        if (storage.exists(file)) {
            String text = new String(storage.readAll(file, 512L << 20), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    RoundMetrics m = parse(JSON.readTree(line));
                    if (m.round() < keepRounds) {
                        lines.add(line);
                        rounds.add(m);
                    }
                } catch (java.io.IOException e) {
                    break; // a torn last line from a killed writer: everything before it is kept
                }
            }
        }
    }

    public void add(RoundMetrics m) {
        lines.add(toJson(m));
        rounds.add(m);
        storage.writeAtomically(file, out -> out.write((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)));
    }

    /** Drops the rounds from {@code keepRounds} on (a run that goes back to an earlier state runs them again). */
    public void truncate(int keepRounds) {
        while (!rounds.isEmpty() && rounds.get(rounds.size() - 1).round() >= keepRounds) {
            rounds.remove(rounds.size() - 1);
            lines.remove(lines.size() - 1);
        }
    }

    public List<RoundMetrics> rounds() {
        return List.copyOf(rounds);
    }

    static String toJson(RoundMetrics m) {
        ObjectNode n = JSON.createObjectNode();
        n.put("round", m.round());
        n.put("epoch", m.epoch());
        n.put("round_in_epoch", m.roundInEpoch());
        n.put("examples", m.examples());
        ObjectNode loss = n.putObject("loss");
        loss.put("total", m.loss());
        if (m.components().isEmpty()) {
            loss.put("base", m.lossBase());
            loss.put("fd", m.lossFd());
            loss.put("rwp", m.lossRwp());
        } else {
            m.components().forEach(loss::put);
        }
        n.put("lr", m.lr());
        n.put("images_per_s", m.imagesPerS());
        ObjectNode t = n.putObject("time_s");
        t.put("broadcast", m.broadcastS());
        t.put("compute", m.computeS());
        t.put("aggregate", m.aggregateS());
        t.put("total", m.totalS());
        n.put("skipped", m.skipped());
        return n.toString();
    }

    static RoundMetrics parse(com.fasterxml.jackson.databind.JsonNode n) throws java.io.IOException {
        if (!n.has("round") || !n.has("loss")) {
            throw new java.io.IOException("not a metrics line");
        }
        var l = n.get("loss");
        var t = n.path("time_s");
        // A PELA line has base/fd/rwp; any other step's line has its own components besides the total.
        java.util.Map<String, Double> components = new java.util.LinkedHashMap<>();
        l.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("total") && !l.has("base")) {
                components.put(e.getKey(), e.getValue().asDouble());
            }
        });
        double nan = Double.NaN;
        boolean pela = components.isEmpty();
        return new RoundMetrics(n.get("round").asInt(), n.path("epoch").asInt(), n.path("round_in_epoch").asInt(),
                n.path("examples").asLong(), l.path("total").asDouble(), pela ? l.path("base").asDouble() : nan,
                pela ? l.path("fd").asDouble() : nan, pela ? l.path("rwp").asDouble() : nan, n.path("lr").asDouble(),
                n.path("images_per_s").asDouble(), t.path("broadcast").asDouble(), t.path("compute").asDouble(),
                t.path("aggregate").asDouble(), t.path("total").asDouble(), n.path("skipped").asInt(), components);
    }
}
