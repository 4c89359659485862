package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * The secret a ring run's connections prove they hold ({@link LinkAuth}). With {@code spark.authenticate = true} it is
 * derived, on the driver and on each executor alike, from Spark's own application secret
 * ({@code SecurityManager.getSecretKey}: {@code spark.authenticate.secret}, its file settings, or the one Spark
 * generates on YARN and local) and the run id, so it never travels: only processes of this application know it.
 * Otherwise the driver draws 32 random bytes per run and they travel to the tasks inside the round's closure — as
 * safe as Spark's own task traffic, which Spark authenticates and encrypts only under those same settings.
 */
abstract sealed class RingSecret implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The 32 key bytes (computed once per JVM for a derived secret). */
    abstract byte[] key();

    /** Says where the secret comes from, never what it is. */
    @Override
    public abstract String toString();

    static RingSecret forRun(SparkConf conf, String runId) {
        return conf.getBoolean("spark.authenticate", false) ? new FromSpark(runId) : Drawn.fresh();
    }

    /** A secret drawn by the driver for one run. */
    static final class Drawn extends RingSecret {
        private static final long serialVersionUID = 1L;
        private final byte[] key;

        Drawn(byte[] key) {
            this.key = key.clone();
        }

        static Drawn fresh() {
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            return new Drawn(k);
        }

        @Override
        byte[] key() {
            return key;
        }

        @Override
        public String toString() {
            return "a per-run secret drawn by the driver";
        }
    }

    /** HMAC(Spark's application secret, "pela-ring/" + run id): the same on every process of the application. */
    static final class FromSpark extends RingSecret {
        private static final long serialVersionUID = 1L;
        private final String runId;
        private transient byte[] key;

        FromSpark(String runId) {
            this.runId = runId;
        }

        @Override
        synchronized byte[] key() {
            if (key == null) {
                SparkEnv env = SparkEnv.get();
                String spark = env == null ? null : env.securityManager().getSecretKey();
                if (spark == null || spark.isEmpty()) {
                    throw new PelaException("ring exchange: spark.authenticate is true but Spark holds no application"
                            + " secret in this process (set spark.authenticate.secret)");
                }
                key = LinkAuth.hmac(spark.getBytes(StandardCharsets.UTF_8),
                        ("pela-ring/" + runId).getBytes(StandardCharsets.UTF_8));
            }
            return key;
        }

        @Override
        public String toString() {
            return "derived from Spark's application secret (spark.authenticate)";
        }
    }
}
