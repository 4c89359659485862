package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;

/**
 * A dataset of WebDataset tar shards, given by a brace spec such as {@code s3a://b/in1k/train-{000000..000146}.tar}.
 * A sample is a group of members sharing a key: an image {@code <key>.jpg|jpeg|png} and its class
 * {@code <key>.cls} (the class index as ASCII text); other members ({@code .json}, {@code .txt} …) are ignored.
 *
 * <p>The driver reads each shard once, headers only (plus the few bytes of each {@code .cls}), and records where
 * each image's data lies, so an executor fetches one image with one seek and one read and no shard is ever
 * unpacked. Shards are untrusted input: every defect fails here naming the shard and the member or key.
 */
public final class WebDatasetSource {
    /** The largest image member accepted; a bigger one is a broken or hostile shard, not a photo. */
    public static final int MAX_IMAGE_BYTES = 64 << 20;
    static final int MAX_CLS_BYTES = 64;
    /** WebDataset's split of a member name: the key runs to the first dot of the file name. */
    private static final Pattern KEY_EXT = Pattern.compile("^((?:.*/|)[^./]+)\\.([^/]*)$");
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png");

    /** The samples of all shards in spec order, and the number of classes (given, or the largest label + 1). */
    public record Listing(List<Sample> samples, int numClasses) {
    }

    private final Storage storage;
    private final String spec;

    public WebDatasetSource(Storage storage, String spec) {
        this.storage = storage;
        this.spec = spec;
    }

    /** The shard locations the spec expands to, as Hadoop path strings. */
    public List<String> shards() {
        return Braces.expand(spec).stream().map(s -> Storage.path(s).toString()).toList();
    }

    /** Lists every shard, taking the number of classes as the largest label + 1. */
    public Listing list() {
        return list(0);
    }

    /** Lists every shard; labels must lie in [0, numClasses) ({@code numClasses <= 0}: infer it). */
    public Listing list(int numClasses) {
        List<Sample> samples = new ArrayList<>();
        for (String shard : shards()) {
            samples.addAll(listShard(shard));
        }
        if (samples.isEmpty()) {
            throw new PelaException(spec + ": no samples (no <key>.jpg/.jpeg/.png with <key>.cls in any shard)");
        }
        int classes = numClasses > 0 ? numClasses : 1 + samples.stream().mapToInt(Sample::label).max().orElse(0);
        for (Sample s : samples) {
            if (s.label() >= classes) {
                throw new PelaException(s.location() + ": class " + s.label() + " is outside [0, " + classes + ")");
            }
        }
        return new Listing(samples, classes);
    }

    /** The samples of one shard in the order their keys first appear. */
    public List<Sample> listShard(String shard) {
        Path path = Storage.path(shard);
        String uri = path.toString();
        Map<String, Parts> keys = new LinkedHashMap<>();
        long length = storage.length(path);
        try (TarReader tar = new TarReader(storage.open(path), uri, length)) {
            for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
                index(tar, e, uri, keys);
            }
        }
        List<Sample> samples = new ArrayList<>(keys.size());
        keys.forEach((key, parts) -> {
            Sample s = parts.sample(uri, key);
            if (s != null) {
                samples.add(s);
            }
        });
        return samples;
    }

    private static void index(TarReader tar, TarReader.Entry e, String uri, Map<String, Parts> keys) {
        Matcher m = KEY_EXT.matcher(e.name());
        if (!m.matches()) {
            return; // no extension: not part of any sample
        }
        String key = m.group(1);
        String ext = m.group(2).toLowerCase(Locale.ROOT);
        if (ext.equals("cls")) {
            Parts p = keys.computeIfAbsent(key, k -> new Parts());
            if (p.label != null) {
                throw new PelaException(uri + ": key " + key + " has more than one .cls member");
            }
            p.label = parseLabel(tar.read(e, MAX_CLS_BYTES), uri, key);
        } else if (IMAGE_EXTENSIONS.contains(ext)) {
            Parts p = keys.computeIfAbsent(key, k -> new Parts());
            if (p.image != null) {
                throw new PelaException(uri + ": key " + key + " has two images, " + p.image.name() + " and "
                        + e.name());
            }
            if (e.size() > MAX_IMAGE_BYTES) {
                throw new PelaException(uri + ": member " + e.name() + " of " + e.size()
                        + " bytes exceeds the limit of " + MAX_IMAGE_BYTES + " bytes for an image");
            }
            p.image = e;
        }
    }

    static int parseLabel(byte[] data, String uri, String key) {
        String text = new String(data, StandardCharsets.US_ASCII).strip();
        if (!text.matches("\\d{1,9}")) {
            throw new PelaException(uri + ": " + key + ".cls holds '" + printable(text)
                    + "', not a non-negative integer class index");
        }
        return Integer.parseInt(text);
    }

    private static String printable(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** What one key has collected so far. */
    private static final class Parts {
        TarReader.Entry image;
        Integer label;

        Sample sample(String uri, String key) {
            if (image != null && label == null) {
                throw new PelaException(uri + ": key " + key + " has no .cls member (its class)");
            }
            if (image == null && label != null) {
                throw new PelaException(uri + ": key " + key + " has a .cls but no .jpg/.jpeg/.png member");
            }
            return image == null ? null : Sample.member(uri, image.name(), image.offset(), image.size(), label);
        }
    }
}
