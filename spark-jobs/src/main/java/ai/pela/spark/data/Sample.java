package ai.pela.spark.data;

import java.io.Serializable;
import java.util.List;

/**
 * One training example as the driver hands it to an executor: where its encoded image lies and its class.
 *
 * <p>{@code uri} is a Hadoop path string. For a whole file {@code offset} and {@code length} are both −1; for a
 * member of a tar shard they are the byte range of the member's data inside the shard, so an executor reads it
 * with one seek and one read, without parsing the tar again. {@code member} is the member's name inside the
 * shard (null for a whole file); it only serves log and error messages.
 *
 * <p>An image-text sample (ALBEF's caption files) also carries its {@link Captions}: the texts and where the sample
 * was listed, so that a bad image's message names the annotation file and entry, and so that the texts travel with
 * the round's samples to the executors instead of a whole caption table being shipped to every task. Its label is
 * the index of its image among the distinct images of the listing (ALBEF's {@code img_ids}).
 */
public record Sample(String uri, long offset, long length, int label, String member, Captions captions)
        implements Serializable {
    private static final long serialVersionUID = 2L;

    /**
     * The texts of an image-text sample: one or more captions (one is drawn per epoch, see {@link CaptionChoice}),
     * the annotation file and the entry of it that listed them, and the sample's index in the whole listing.
     */
    public record Captions(List<String> texts, String annotations, int entry, int index) implements Serializable {
        private static final long serialVersionUID = 1L;

        public Captions {
            texts = List.copyOf(texts);
            if (texts.isEmpty()) {
                throw new IllegalArgumentException(annotations + ": entry " + entry + " without a caption");
            }
        }
    }

    public Sample {
        if (uri == null || uri.isEmpty()) {
            throw new IllegalArgumentException("sample without a uri");
        }
        if (label < 0) {
            throw new IllegalArgumentException(uri + ": negative label " + label);
        }
        boolean wholeFile = offset == -1 && length == -1;
        if (!wholeFile && (offset < 0 || length < 0)) {
            throw new IllegalArgumentException(uri + ": bad byte range offset=" + offset + " length=" + length);
        }
    }

    /** A class-labelled sample (no captions). */
    public Sample(String uri, long offset, long length, int label, String member) {
        this(uri, offset, length, label, member, null);
    }

    /** A sample given by offset and length without a member name (its name shows the offset instead). */
    public Sample(String uri, long offset, long length, int label) {
        this(uri, offset, length, label, null);
    }

    /** A whole image file. */
    public static Sample file(String uri, int label) {
        return new Sample(uri, -1, -1, label, null);
    }

    /** The data of member {@code member} of the tar shard {@code shardUri}. */
    public static Sample member(String shardUri, String member, long offset, long length, int label) {
        return new Sample(shardUri, offset, length, label, member);
    }

    /** A whole image file with its captions; {@code label} is the index of the image (see the class comment). */
    public static Sample captioned(String uri, int label, Captions captions) {
        return new Sample(uri, -1, -1, label, null, captions);
    }

    public boolean wholeFile() {
        return offset == -1;
    }

    /**
     * The full location for error messages: the uri, or {@code uri:member} for a member of a shard; for an
     * image-text sample followed by {@code (entry N of <annotation file>)}.
     */
    public String location() {
        String where = wholeFile() ? uri : uri + ":" + (member != null ? member : "@" + offset);
        return captions == null ? where : where + " (entry " + captions.entry() + " of " + captions.annotations() + ")";
    }

    /** A short name for log messages: the file name, or {@code shard.tar:member}. */
    public String name() {
        String file = uri.substring(uri.lastIndexOf('/') + 1);
        if (wholeFile()) {
            return file;
        }
        return file + ":" + (member != null ? member : "@" + offset);
    }
}
