package ai.pela.zoo.train;

/** A loss component came out NaN or infinite; the step was not applied. */
public class NonFiniteLossException extends RuntimeException {
    private final String component;

    public NonFiniteLossException(String component, double value) {
        super("loss component '" + component + "' is " + value + "; the update was not applied");
        this.component = component;
    }

    /** Throws for the first of {@code names} whose (scalar) value in {@code outputs} is NaN or infinite. */
    public static void check(java.util.Map<String, ? extends org.nd4j.linalg.api.ndarray.INDArray> outputs,
            Iterable<String> names) {
        for (String name : names) {
            double v = outputs.get(name).getDouble(0);
            if (!Double.isFinite(v)) {
                throw new NonFiniteLossException(name, v);
            }
        }
    }

    public String component() {
        return component;
    }
}
