package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;

/**
 * Reads the annotation files of image-text datasets (ALBEF's lists of entries, Karpathy's {@code {"images": […]}})
 * from any Hadoop path, one entry at a time, so a multi-gigabyte file never sits in memory as one tree. These files
 * are input from outside: their size and nesting are bounded, and every defect fails naming the file and, once
 * inside the list, the entry and the field.
 */
final class AnnotationJson {
    /** ALBEF's 14M-image pre-training file is a few GB; beyond this a file is a mistake. */
    static final long DEFAULT_MAX_BYTES = 8L << 30;
    /** Karpathy's sentences' token lists are the deepest legitimate content: depth 6. */
    static final int MAX_DEPTH = 16;
    /** A URI scheme such as {@code s3a:} or {@code hdfs:}: the path is absolute. */
    private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:");
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build());

    /** Called with each entry of the list and its index. */
    @FunctionalInterface
    interface EntryHandler {
        void entry(int index, JsonNode entry);
    }

    private AnnotationJson() {
    }

    /** Each object of a file whose top level is a list (ALBEF's pre-training and retrieval files). */
    static void forEachEntry(Storage storage, Path file, long maxBytes, EntryHandler handler) {
        read(storage, file, maxBytes, null, handler);
    }

    /** Each object of the list under {@code field} of a file whose top level is an object (Karpathy's "images"). */
    static void forEachEntry(Storage storage, Path file, long maxBytes, String field, EntryHandler handler) {
        read(storage, file, maxBytes, field, handler);
    }

    private static void read(Storage storage, Path file, long maxBytes, String field, EntryHandler handler) {
        long size = storage.length(file);
        if (size > maxBytes) {
            throw new PelaException(file + ": annotation file of " + size + " bytes exceeds the limit of " + maxBytes);
        }
        int[] entry = {-1};
        try (InputStream in = storage.open(file); JsonParser p = MAPPER.getFactory().createParser(in)) {
            if (field == null) {
                readList(p, file, "the top level", handler, entry);
            } else {
                readField(p, file, field, handler, entry);
            }
            if (p.nextToken() != null) {
                throw new PelaException(file + ": content after the end of the JSON document");
            }
        } catch (JsonProcessingException e) {
            throw malformed(file, entry[0], e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void readField(JsonParser p, Path file, String field, EntryHandler handler, int[] entry)
            throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new PelaException(file + ": the top level is " + describe(p.currentToken())
                    + ", not an object with a \"" + field + "\" list");
        }
        boolean found = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            if (name.equals(field) && !found) {
                found = true;
                readList(p, file, "\"" + field + "\"", handler, entry);
            } else {
                p.nextToken();
                p.skipChildren();
            }
        }
        if (!found) {
            throw new PelaException(file + ": no \"" + field + "\" list at the top level");
        }
    }

    private static void readList(JsonParser p, Path file, String what, EntryHandler handler, int[] entry)
            throws IOException {
        if (p.nextToken() != JsonToken.START_ARRAY) {
            throw new PelaException(file + ": " + what + " is " + describe(p.currentToken()) + ", not a list of entries");
        }
        for (entry[0] = 0; p.nextToken() != JsonToken.END_ARRAY; entry[0]++) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw new PelaException(file + ": entry " + entry[0] + " is " + describe(p.currentToken())
                        + ", not an object");
            }
            handler.entry(entry[0], MAPPER.readTree(p));
        }
        entry[0] = -1;
    }

    private static PelaException malformed(Path file, int entry, JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        String inEntry = entry >= 0 ? " in entry " + entry : "";
        return new PelaException(file + ": malformed JSON" + inEntry + where + ": " + e.getOriginalMessage(), e);
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "empty";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a list";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    /** A required non-empty string field of an entry. */
    static String string(JsonNode entry, String field, Path file, int index) {
        JsonNode v = entry.get(field);
        if (v == null || v.isNull()) {
            throw new PelaException(file + ": entry " + index + " has no \"" + field + "\"");
        }
        if (!v.isTextual() || v.asText().isEmpty()) {
            throw new PelaException(file + ": entry " + index + ": \"" + field + "\" is " + kind(v)
                    + ", not a non-empty string");
        }
        return v.asText();
    }

    /** A required caption field: a string, or a non-empty list of strings. */
    static List<String> captions(JsonNode entry, String field, Path file, int index) {
        JsonNode v = entry.get(field);
        if (v == null || v.isNull()) {
            throw new PelaException(file + ": entry " + index + " has no \"" + field + "\"");
        }
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw new PelaException(file + ": entry " + index + ": \"" + field + "\" is " + kind(v)
                    + ", neither a string nor a list of strings");
        }
        if (v.isEmpty()) {
            throw new PelaException(file + ": entry " + index + ": \"" + field + "\" is an empty list");
        }
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw new PelaException(file + ": entry " + index + ": \"" + field + "\"[" + i + "] is "
                        + kind(v.get(i)) + ", not a string");
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    static String kind(JsonNode v) {
        if (v.isTextual()) {
            return "a string";
        }
        if (v.isNumber()) {
            return "a number";
        }
        if (v.isBoolean()) {
            return "a boolean";
        }
        if (v.isArray()) {
            return "a list";
        }
        return v.isObject() ? "an object" : "null";
    }

    /**
     * An image path of an entry as a Hadoop path string: an absolute path or a URI as it is, a relative path under
     * {@code imageRoot}, or, with no root given, under the annotation file's folder (the driver's working
     * directory, which ALBEF resolves against, means nothing to an executor).
     */
    static String resolve(String image, String imageRoot, Path file) {
        if (image.startsWith("/") || SCHEME.matcher(image).lookingAt()) {
            return Storage.path(image).toString();
        }
        String root = imageRoot == null || imageRoot.isBlank() ? file.getParent().toString() : imageRoot;
        String base = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
        return Storage.path(base + "/" + image).toString();
    }
}
