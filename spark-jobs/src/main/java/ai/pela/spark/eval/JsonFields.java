package ai.pela.spark.eval;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.Path;

/**
 * Reading the fields of a COCO JSON file with errors that name the file and the field's path
 * ({@code instances_val.json: annotations[3].bbox: ...}), so a user can find the broken entry in a 400 MB file.
 */
final class JsonFields {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String file;

    JsonFields(String file) {
        this.file = file;
    }

    String file() {
        return file;
    }

    /** Parses a whole JSON file from any Hadoop path. */
    static JsonNode read(Storage storage, String location) {
        Path p = Storage.path(location);
        try (InputStream in = storage.open(p)) {
            JsonNode root = JSON.readTree(in);
            if (root == null || root.isMissingNode()) {
                throw new PelaException(location + ": empty file, expected JSON");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new PelaException(location + ": not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + location, e);
        }
    }

    PelaException error(String field, String problem) {
        return new PelaException(file + ": " + field + ": " + problem);
    }

    JsonNode array(JsonNode parent, String name, String field) {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            throw error(field, "missing");
        }
        if (!n.isArray()) {
            throw error(field, "expected an array, got " + kind(n));
        }
        return n;
    }

    JsonNode object(JsonNode n, String field) {
        if (!n.isObject()) {
            throw error(field, "expected an object, got " + kind(n));
        }
        return n;
    }

    /**
     * An integer. A number with a zero fraction (42.0, as some result writers emit ids) is accepted, since Python's
     * dictionaries, and so pycocotools, treat it as the integer.
     */
    long integer(JsonNode parent, String name, String field) {
        JsonNode n = required(parent, name, field);
        if (!n.isNumber() || !isIntegral(n)) {
            throw error(field + "." + name, "expected an integer, got " + kind(n));
        }
        return n.asLong();
    }

    private static boolean isIntegral(JsonNode n) {
        if (n.isIntegralNumber()) {
            return n.canConvertToLong();
        }
        double d = n.asDouble();
        return Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 0x1p53;
    }

    /** An integer in [{@code min}, {@code max}]. */
    long integer(JsonNode parent, String name, String field, long min, long max) {
        long v = integer(parent, name, field);
        if (v < min || v > max) {
            throw error(field + "." + name, v + " is outside [" + min + ", " + max + "]");
        }
        return v;
    }

    double number(JsonNode parent, String name, String field) {
        JsonNode n = required(parent, name, field);
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw error(field + "." + name, "expected a finite number, got " + kind(n));
        }
        return n.asDouble();
    }

    String text(JsonNode parent, String name, String field) {
        JsonNode n = required(parent, name, field);
        if (!n.isTextual()) {
            throw error(field + "." + name, "expected a string, got " + kind(n));
        }
        return n.asText();
    }

    /** A COCO box {@code [x, y, w, h]}: four finite numbers, width and height not negative. */
    Box box(JsonNode parent, String name, String field) {
        JsonNode n = required(parent, name, field);
        String f = field + "." + name;
        if (!n.isArray() || n.size() != 4) {
            String got = n.isArray() ? n.size() + " values" : kind(n);
            throw error(f, "expected [x, y, width, height], got " + got);
        }
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            if (!n.get(i).isNumber() || !Double.isFinite(n.get(i).asDouble())) {
                throw error(f, "expected [x, y, width, height] of finite numbers, got " + n);
            }
            v[i] = n.get(i).asDouble();
        }
        if (v[2] < 0 || v[3] < 0) {
            throw error(f, "negative width or height in " + n);
        }
        return new Box(v[0], v[1], v[2], v[3]);
    }

    private JsonNode required(JsonNode parent, String name, String field) {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            throw error(field + "." + name, "missing");
        }
        return n;
    }

    static String kind(JsonNode n) {
        if (n.isNumber()) {
            return "the number " + n;
        }
        if (n.isTextual()) {
            String t = n.asText();
            return "the string \"" + (t.length() > 40 ? t.substring(0, 40) + "…" : t) + "\"";
        }
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
}
