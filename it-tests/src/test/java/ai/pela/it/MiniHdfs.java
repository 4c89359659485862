package ai.pela.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.DFSConfigKeys;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.hdfs.server.datanode.DataNode;
import org.apache.hadoop.hdfs.server.namenode.AuditLogger;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * A real HDFS in this JVM (hadoop-client-minicluster): one NameNode and N DataNodes, every RPC, data-transfer and
 * HTTP address on 127.0.0.1 with an ephemeral port, storage under {@code baseDir}. Other JVMs (the Spark driver
 * and executors) reach it at {@link #uri()}. {@link #close()} shuts everything down (also from a shutdown hook,
 * should the test JVM be stopped first).
 */
final class MiniHdfs implements AutoCloseable {
    private final MiniDFSCluster cluster;
    private final Thread hook;

    private MiniHdfs(MiniDFSCluster cluster) {
        this.cluster = cluster;
        this.hook = new Thread(() -> cluster.shutdown(true));
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts a NameNode and {@code dataNodes} DataNodes; files are written with {@code replication} copies. */
    static MiniHdfs start(Path baseDir, int dataNodes, int replication) throws IOException {
        // The NameNode's and DataNodes' own warnings (replicas short after a stopped DataNode, interrupted threads
        // at shutdown …) are expected here; the jobs' HDFS clients log in their own JVMs.
        Configurator.setLevel("org.apache.hadoop", Level.ERROR);
        Configuration conf = new Configuration();
        conf.set(DFSConfigKeys.DFS_NAMENODE_RPC_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_NAMENODE_HTTP_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_NAMENODE_HTTPS_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_NAMENODE_SECONDARY_HTTP_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_DATANODE_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_DATANODE_HTTP_ADDRESS_KEY, "127.0.0.1:0");
        conf.set(DFSConfigKeys.DFS_DATANODE_IPC_ADDRESS_KEY, "127.0.0.1:0");
        conf.setInt(DFSConfigKeys.DFS_REPLICATION_KEY, replication);
        // Small images and checkpoints: no reason for 128 MB blocks, and smaller ones mean more pipelines per file.
        conf.setLong(DFSConfigKeys.DFS_NAMENODE_MIN_BLOCK_SIZE_KEY, 64 * 1024);
        conf.setLong(DFSConfigKeys.DFS_BLOCK_SIZE_KEY, 1024 * 1024);
        // A DataNode that stops heart-beating is declared dead after seconds, not the default 10.5 minutes.
        conf.setLong(DFSConfigKeys.DFS_HEARTBEAT_INTERVAL_KEY, 1);
        conf.setInt(DFSConfigKeys.DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_KEY, 2000);
        // Every namespace operation is also handed to Audit, so tests can see which operations a write made.
        conf.set(DFSConfigKeys.DFS_NAMENODE_AUDIT_LOGGERS_KEY, Audit.class.getName());
        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, baseDir.toFile())
                .numDataNodes(dataNodes)
                .nameNodePort(0)
                .nameNodeHttpPort(0)
                .checkDataNodeAddrConfig(true)
                .format(true)
                .build();
        try {
            cluster.waitActive();
            return new MiniHdfs(cluster);
        } catch (IOException | RuntimeException e) {
            cluster.shutdown(true);
            throw e;
        }
    }

    /** {@code hdfs://127.0.0.1:PORT}, the NameNode's address as clients in other JVMs use it. */
    URI uri() {
        return URI.create("hdfs://127.0.0.1:" + cluster.getNameNodePort());
    }

    /** An absolute {@code hdfs://127.0.0.1:PORT/...} location. */
    String at(String absolutePath) {
        return uri() + absolutePath;
    }

    DistributedFileSystem fs() throws IOException {
        return cluster.getFileSystem();
    }

    /** A client configuration of this cluster (replication as configured). */
    Configuration conf() {
        return new Configuration(cluster.getConfiguration(0));
    }

    List<DataNode> dataNodes() {
        return cluster.getDataNodes();
    }

    /** Stops DataNode {@code i} at once, as a lost machine would stop, and returns its transfer address. */
    String stopDataNode(int i) {
        String addr = cluster.getDataNodes().get(i).getDatanodeId().getXferAddr();
        cluster.stopDataNode(i);
        return addr;
    }

    /** A NameNode operation as the audit log records it. */
    record Op(String cmd, String src, String dst) {
    }

    /** Records the NameNode's successful operations on paths under {@link #watch(String)}'s prefix. */
    public static final class Audit implements AuditLogger {
        private static volatile String prefix = "\0";
        private static final List<Op> OPS = new CopyOnWriteArrayList<>();

        @Override
        public void initialize(Configuration conf) {
        }

        @Override
        public void logAuditEvent(boolean succeeded, String user, InetAddress addr, String cmd, String src, String dst,
                FileStatus stat) {
            if (succeeded && src != null && src.startsWith(prefix)) {
                OPS.add(new Op(cmd, src, dst));
            }
        }
    }

    /** From now on, records the operations on paths starting with {@code pathPrefix} (and forgets earlier ones). */
    static void watch(String pathPrefix) {
        Audit.OPS.clear();
        Audit.prefix = pathPrefix;
    }

    /** The operations recorded since {@link #watch(String)}, in order. */
    static List<Op> watched() {
        return List.copyOf(Audit.OPS);
    }

    @Override
    public void close() {
        try {
            FileSystem.closeAll();
        } catch (IOException ignored) {
            // the cluster goes down next anyway
        }
        cluster.shutdown(true);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running already
        }
    }
}
