package ai.pela.zoo.train;

/** A loss component came out NaN or infinite; the step was not applied. */
public class NonFiniteLossException extends RuntimeException {
    private final String component;

    public NonFiniteLossException(String component, double value) {
        super("loss component '" + component + "' is " + value + "; the update was not applied");
        this.component = component;
    }

    public String component() {
        return component;
    }
}
