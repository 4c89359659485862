package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Where a ring round's tasks find each other: a small TCP service on the driver that collects one string from each
 * of a round's N tasks and answers all N with all of them, in rank order.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: in Spark 3.5 it waits for its answer in a loop that sleeps a whole
 * second between checks, so every call costs about 1 s — measured here as exactly 1.000 s per round, 28 % of a DeiT-B
 * k=16 round on a GPU. The barrier stage is still what starts the N tasks together and re-runs them all on a failure.
 */
final class RingRendezvous implements Closeable {
    private static final int READ_TIMEOUT_MS = 600_000;
    /** A task sends its registration as soon as it connects. */
    private static final int REGISTER_TIMEOUT_MS = 10_000;

    private final ServerSocket server;
    private final Thread acceptor;
    /** Waiting tasks per round key; only one round's stage runs at a time, so an older incomplete key is dead. */
    private final Map<String, Socket[]> waiting = new HashMap<>();
    private final Map<String, String[]> notes = new HashMap<>();
    /** Key prefix of the attempt the driver is running now; null between attempts. */
    private String live;

    RingRendezvous(String host) {
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(host, 0));
        } catch (IOException e) {
            throw new PelaException("ring rendezvous: cannot listen on the driver's host " + host + ": " + e, e);
        }
        acceptor = new Thread(this::acceptLoop, "pela-ring-rendezvous");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** "host:port" for the tasks. */
    String address() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                s.setSoTimeout(REGISTER_TIMEOUT_MS);
                DataInputStream in = new DataInputStream(s.getInputStream());
                register(s, in.readUTF(), in.readInt(), in.readInt(), in.readUTF());
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
                // one task's broken connection: it fails and Spark re-runs the stage; keep serving
            }
        }
    }

    /**
     * Opens an attempt: from now on only tasks whose key starts with {@code keyPrefix} are answered. Everything else —
     * a task of an attempt the driver already gave up, which Spark may start or keep running after the failure — gets
     * its connection closed at once and fails, which frees its task slot for the next attempt.
     */
    synchronized void open(String keyPrefix) {
        abortWaiting();
        live = keyPrefix;
    }

    private synchronized void register(Socket s, String key, int size, int rank, String note) throws IOException {
        if (live == null || !key.startsWith(live)) {
            s.close();
            return;
        }
        waiting.keySet().removeIf(k -> {
            if (k.equals(key)) {
                return false;
            }
            closeAll(waiting.get(k)); // a dead attempt's tasks: they fail, which Spark expects of a failed stage
            notes.remove(k);
            return true;
        });
        Socket[] conns = waiting.computeIfAbsent(key, k -> new Socket[size]);
        String[] all = notes.computeIfAbsent(key, k -> new String[size]);
        conns[rank] = s;
        all[rank] = note;
        for (Socket c : conns) {
            if (c == null) {
                return;
            }
        }
        for (Socket c : conns) {
            DataOutputStream out = new DataOutputStream(c.getOutputStream());
            for (String n : all) {
                out.writeUTF(n);
            }
            out.flush();
        }
        closeAll(conns);
        waiting.remove(key);
        notes.remove(key);
    }

    /**
     * Ends the attempt: answers every waiting task with a closed connection and refuses late ones until the next
     * {@link #open}. After a failed attempt its surviving tasks may be waiting here for a peer that died, or arrive
     * only now; each keeps its task slot while it waits, and the re-run barrier stage needs every slot.
     */
    synchronized void abortWaiting() {
        live = null;
        waiting.values().forEach(RingRendezvous::closeAll);
        waiting.clear();
        notes.clear();
    }

    private static void closeAll(Socket[] conns) {
        for (Socket c : conns) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // the answer is written or the task is gone
                }
            }
        }
    }

    /**
     * The task side: sends {@code note} as rank {@code rank} of {@code size} under {@code key}; returns all notes.
     * Gives up soon after {@code killed} turns true ({@link TaskSockets}).
     */
    static String[] gather(String address, String key, int rank, int size, String note, BooleanSupplier killed) {
        int colon = address.lastIndexOf(':');
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    60_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeUTF(key);
            out.writeInt(size);
            out.writeInt(rank);
            out.writeUTF(note);
            out.flush();
            DataInputStream in = new DataInputStream(TaskSockets.input(s, READ_TIMEOUT_MS, killed,
                    "ring rendezvous: rank " + rank + " waiting for the other ranks"));
            String[] all = new String[size];
            for (int i = 0; i < size; i++) {
                all[i] = in.readUTF();
            }
            return all;
        } catch (IOException e) {
            throw new PelaException("ring rendezvous: rank " + rank + " of " + size + " could not reach the driver at "
                    + address + " (or a peer never came): " + e, e);
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // shutting down
        }
        synchronized (this) {
            waiting.values().forEach(RingRendezvous::closeAll);
            waiting.clear();
        }
    }
}
