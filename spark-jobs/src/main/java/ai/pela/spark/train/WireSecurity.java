package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.util.Locale;
import org.apache.spark.SparkConf;

/**
 * What protects the ring exchange's own TCP connections (the driver's rendezvous and the links between tasks).
 * AUTH: every connection proves, by an HMAC-SHA256 challenge–response over a fresh nonce of the accepting side, that
 * it holds the run's secret ({@link LinkAuth}). ENCRYPT: AUTH, then every byte travels in AES-GCM frames under keys
 * of that connection alone. SPARK: ENCRYPT when the cluster encrypts its own traffic
 * ({@code spark.network.crypto.enabled} or {@code spark.ssl.enabled}), AUTH otherwise. NONE (no handshake at all)
 * exists only as the benchmark's baseline: a recipe cannot choose it.
 */
public enum WireSecurity {
    SPARK, AUTH, ENCRYPT, NONE;

    public static WireSecurity parse(String s, String key) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "spark" -> SPARK;
            case "auth" -> AUTH;
            case "encrypt" -> ENCRYPT;
            default -> throw new PelaException(key + ": '" + s + "' is not a ring security mode; use spark (follow the"
                    + " cluster's spark.network.crypto.enabled / spark.ssl.enabled), auth or encrypt");
        };
    }

    /** {@link #parse}, plus "none": the benchmark's baseline without a handshake. */
    public static WireSecurity parseForBench(String s, String key) {
        return s.equalsIgnoreCase("none") ? NONE : parse(s, key);
    }

    /** The mode the run uses on a cluster configured by {@code conf}: never SPARK. */
    WireSecurity resolve(SparkConf conf) {
        if (this != SPARK) {
            return this;
        }
        return encrypts(conf) ? ENCRYPT : AUTH;
    }

    static boolean encrypts(SparkConf conf) {
        return conf.getBoolean("spark.network.crypto.enabled", false) || conf.getBoolean("spark.ssl.enabled", false);
    }

    boolean authenticates() {
        return this != NONE;
    }
}
