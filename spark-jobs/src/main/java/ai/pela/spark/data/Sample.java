package ai.pela.spark.data;

import java.io.Serializable;

/**
 * One training example as the driver hands it to an executor: where its encoded image lies and its class.
 *
 * <p>{@code uri} is a Hadoop path string. For a whole file {@code offset} and {@code length} are both −1; for a
 * member of a tar shard they are the byte range of the member's data inside the shard, so an executor reads it
 * with one seek and one read, without parsing the tar again. {@code member} is the member's name inside the
 * shard (null for a whole file); it only serves log and error messages.
 */
public record Sample(String uri, long offset, long length, int label, String member) implements Serializable {
    private static final long serialVersionUID = 1L;

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

    public boolean wholeFile() {
        return offset == -1;
    }

    /** The full location for error messages: the uri, or {@code uri:member} for a member of a shard. */
    public String location() {
        if (wholeFile()) {
            return uri;
        }
        return uri + ":" + (member != null ? member : "@" + offset);
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
