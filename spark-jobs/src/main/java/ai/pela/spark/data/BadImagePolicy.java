package ai.pela.spark.data;

import ai.pela.zoo.PelaException;
import java.util.Locale;

/** What the executors do with an image that cannot be decoded. */
public enum BadImagePolicy {
    /** Leave it out of its batch, log it at WARN and report it, so one broken file among millions costs nothing. */
    SKIP,
    /** Stop the job with an error naming the file, for datasets that are supposed to be clean. */
    FAIL;

    /** Parses a configuration value, "skip" or "fail" in any case. */
    public static BadImagePolicy parse(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "skip" -> SKIP;
            case "fail" -> FAIL;
            default -> throw new PelaException("bad-image policy '" + value + "' is not one of: skip, fail");
        };
    }
}
