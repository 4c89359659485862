package ai.pela.spark.data;

/**
 * An image that cannot be used: unreadable, corrupt, truncated, in an unsupported format, or too large. The
 * message is the reason only; whoever knows the sample adds its name. Checked, so every caller decides between
 * skipping the image and failing the job (see {@link BadImagePolicy}).
 */
public final class BadImageException extends Exception {
    private static final long serialVersionUID = 1L;

    public BadImageException(String reason) {
        super(reason);
    }

    public BadImageException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
