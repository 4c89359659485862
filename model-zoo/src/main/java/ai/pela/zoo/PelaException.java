package ai.pela.zoo;

/**
 * A problem with the user's input (a file, a config field, an argument) that the user can fix.
 * The message is one line naming the file or field and the problem; the CLI prints it without a stack trace.
 */
public class PelaException extends RuntimeException {
    public PelaException(String message) {
        super(message);
    }

    public PelaException(String message, Throwable cause) {
        super(message, cause);
    }
}
