package ai.pela.spark.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SparkContextsTest {
    @Test
    void theHadoopConfigurationBeforeTheContextHasSparkSubmitsSparkHadoopSettings() {
        // spark-submit passes --conf spark.hadoop.X=Y to the driver as system properties.
        System.setProperty("spark.hadoop.dfs.replication", "2");
        try {
            Configuration c = SparkContexts.hadoopConf(new SparkConf());
            assertThat(c.get("dfs.replication")).isEqualTo("2");
            assertThat(c.get("fs.defaultFS")).as("Hadoop's defaults are there too").isEqualTo("file:///");
        } finally {
            System.clearProperty("spark.hadoop.dfs.replication");
        }
        assertThat(SparkContexts.hadoopConf(new SparkConf()).get("dfs.replication")).isNotEqualTo("2");
    }
}
