package ai.pela.spark.jobs;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fails fast when a standalone master cannot be reached. Left to itself, Spark's client retries a dead
 * {@code spark://} master for a minute, then kills the application underneath the driver, and the job fails later
 * with an error about something else. One TCP connect per listed master, before the context exists, turns that into
 * a prompt error naming the URL.
 */
public final class MasterCheck {
    /** Long enough for a loaded master across a data-centre network; short enough not to look like a hang. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private MasterCheck() {
    }

    /** Throws unless at least one master of a {@code spark://h1:p1,h2:p2} URL accepts a connection; other URLs pass. */
    public static void requireReachable(String master, Duration timeout) {
        if (master == null || !master.startsWith("spark://")) {
            return; // local, yarn, k8s: Spark itself reports those promptly
        }
        List<String> failures = new ArrayList<>();
        for (InetSocketAddress a : addresses(master)) {
            String where = a.getHostString() + ":" + a.getPort();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(a.getHostString(), a.getPort()), (int) timeout.toMillis());
                return;
            } catch (UnknownHostException e) {
                failures.add(where + " (unknown host)");
            } catch (IOException e) {
                failures.add(where + " (" + e.getMessage() + ")");
            }
        }
        throw new PelaException("cannot reach the Spark master " + master + ": " + String.join(", ", failures)
                + "; check --master / spark.master and that the master is running");
    }

    static List<InetSocketAddress> addresses(String master) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || colon == hostPort.length() - 1) {
                throw new PelaException("malformed Spark master URL " + master + ": expected spark://host:port[,host:port]");
            }
            int port;
            try {
                port = Integer.parseInt(hostPort.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new PelaException("malformed Spark master URL " + master + ": port '" + hostPort.substring(colon + 1)
                        + "' is not a number");
            }
            out.add(InetSocketAddress.createUnresolved(hostPort.substring(0, colon), port));
        }
        return out;
    }
}
