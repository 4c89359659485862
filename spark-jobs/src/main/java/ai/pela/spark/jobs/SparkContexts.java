package ai.pela.spark.jobs;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

/**
 * The Spark context of a job: the master given on the command line, else the one spark-submit set, else
 * embedded local mode with one executor thread per worker (the default on a laptop or a CI machine).
 */
public final class SparkContexts {
    private SparkContexts() {
    }

    public static JavaSparkContext create(String appName, String master, int workers) {
        return create(conf(appName, master, workers));
    }

    /** Starts the context: checks a standalone master is reachable first, so a dead one fails promptly. */
    public static JavaSparkContext create(SparkConf conf) {
        MasterCheck.requireReachable(conf.get("spark.master"), MasterCheck.CONNECT_TIMEOUT);
        return new JavaSparkContext(conf);
    }

    /**
     * The Hadoop configuration the context will have, available before it exists: Hadoop's own files
     * (core-site.xml, hdfs-site.xml on the classpath) plus every {@code spark.hadoop.*} setting, as Spark builds it.
     */
    public static Configuration hadoopConf(SparkConf conf) {
        Configuration hadoop = new Configuration();
        for (Tuple2<String, String> kv : conf.getAll()) {
            if (kv._1().startsWith("spark.hadoop.")) {
                hadoop.set(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        return hadoop;
    }

    public static SparkConf conf(String appName, String master, int workers) {
        SparkConf conf = new SparkConf().setAppName(appName);
        if (master != null && !master.isBlank()) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            // local[N, F]: N task threads, and a failed task is retried like on a cluster.
            conf.setMaster("local[" + workers + ",2]");
            conf.set("spark.ui.enabled", "false");
            conf.set("spark.driver.host", "127.0.0.1");
            conf.set("spark.driver.bindAddress", "127.0.0.1");
        }
        conf.setIfMissing("spark.driver.maxResultSize", "4g");
        // A cluster that never accepts the application fails the job instead of waiting for ever.
        conf.setIfMissing("spark.network.timeout", "120s");
        // train.exchange = ring runs barrier stages, which wait until the cluster has a slot for every task; Spark
        // checks again only every 15 s by default, so a job whose executors are still registering lost 15-30 s.
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "2s");
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "150");
        return conf;
    }
}
