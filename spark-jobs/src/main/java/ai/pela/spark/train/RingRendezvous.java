package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a ring round's tasks find each other: a small TCP service on the driver that collects one string from each
 * of a round's N tasks and answers all N with all of them, in rank order.
 *
 * <p>Why not {@code BarrierTaskContext.allGather}: in Spark 3.5 it waits for its answer in a loop that sleeps a whole
 * second between checks, so every call costs about 1 s — measured here as exactly 1.000 s per round, 28 % of a DeiT-B
 * k=16 round on a GPU. The barrier stage is still what starts the N tasks together and re-runs them all on a failure.
 *
 * <p>The port is open to the network, so it trusts nothing it reads: every connection first proves it holds the
 * run's secret ({@link LinkAuth}), then its registration is checked field by field against the open attempt
 * (key, worker count, rank in range and not taken, bounded strings). Registrations are read concurrently, each under
 * a short deadline, by a small bounded pool; whatever one connection does — silence, junk, a wrong proof — closes
 * that connection only, and the acceptor survives anything.
 */
final class RingRendezvous implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RingRendezvous.class);
    private static final String WHERE = "ring rendezvous";
    private static final int READ_TIMEOUT_MS = 600_000;
    private static final int CONNECT_TIMEOUT_MS = 60_000;
    /** A task proves itself and registers as soon as it connects; tests shorten this. */
    static volatile int registerTimeoutMs = 10_000;
    static final int MAX_KEY_BYTES = 256;
    static final int MAX_NOTE_BYTES = 1024;
    /** Connections read at once / waiting to be read; beyond that a connection is closed at once. */
    private static final int READERS = 8;
    private static final int QUEUED = 1024;

    private final ServerSocket server;
    private final Thread acceptor;
    private final ThreadPoolExecutor readers;
    private final WireSecurity mode;
    private final RingSecret secret;
    /** Waiting tasks per round key; only one round's stage runs at a time, so an older incomplete key is dead. */
    private final Map<String, Waiting> waiting = new HashMap<>();
    /** Key prefix and worker count of the attempt the driver is running now; null between attempts. */
    private String live;
    private int liveSize;

    /** The registered tasks of one key: where to answer each, and its note. */
    private record Waiting(Socket[] sockets, DataOutputStream[] outs, String[] notes) {
        Waiting(int size) {
            this(new Socket[size], new DataOutputStream[size], new String[size]);
        }

        boolean complete() {
            for (Socket s : sockets) {
                if (s == null) {
                    return false;
                }
            }
            return true;
        }
    }

    RingRendezvous(String host, WireSecurity mode, RingSecret secret) {
        this.mode = mode;
        this.secret = secret;
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(host, 0));
        } catch (IOException e) {
            throw new PelaException("ring rendezvous: cannot listen on the driver's host " + host + ": " + e, e);
        }
        readers = new ThreadPoolExecutor(READERS, READERS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
            Thread t = new Thread(r, "pela-ring-rendezvous-reader");
            t.setDaemon(true);
            return t;
        });
        readers.allowCoreThreadTimeOut(true);
        acceptor = new Thread(this::acceptLoop, "pela-ring-rendezvous");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("ring rendezvous listening on {} ({})", address(), mode);
    }

    /** "host:port" for the tasks. */
    String address() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (Throwable e) {
                if (server.isClosed()) {
                    return;
                }
                LOG.warn("ring rendezvous: accept failed ({}); still listening", e.toString());
                pause(); // e.g. out of file descriptors: do not spin
                continue;
            }
            try {
                readers.execute(() -> serve(s));
            } catch (RejectedExecutionException e) {
                LinkAuth.refuse(s, WHERE, new LinkAuth.Refused("too many connections being read"));
            }
        }
    }

    /** Reads one connection's proof and registration; anything wrong closes this connection only. */
    private void serve(Socket s) {
        try {
            s.setSoTimeout(registerTimeoutMs);
            LinkAuth.Session session = LinkAuth.accept(s, mode, secret, WHERE);
            DataInputStream in = new DataInputStream(session.input(s.getInputStream()));
            String key = WireFields.readString(in, MAX_KEY_BYTES, "registration key");
            int size = WireFields.readInt(in, 1, Integer.MAX_VALUE, "worker count");
            int rank = WireFields.readInt(in, 0, size - 1, "rank");
            String note = WireFields.readString(in, MAX_NOTE_BYTES, "note");
            register(s, new DataOutputStream(new BufferedOutputStream(session.output(s.getOutputStream()))), key, size,
                    rank, note);
        } catch (Throwable e) {
            LinkAuth.refuse(s, WHERE, e);
        }
    }

    /**
     * Opens an attempt of {@code size} tasks: from now on only tasks whose key starts with {@code keyPrefix} are
     * answered. Everything else — a task of an attempt the driver already gave up, which Spark may start or keep
     * running after the failure — gets its connection closed at once and fails, which frees its task slot for the next
     * attempt.
     */
    synchronized void open(String keyPrefix, int size) {
        abortWaiting();
        live = keyPrefix;
        liveSize = size;
    }

    private synchronized void register(Socket s, DataOutputStream out, String key, int size, int rank, String note)
            throws IOException {
        if (live == null || !key.startsWith(live)) {
            // A task of a given-up attempt (it then fails, as Spark expects of a failed stage's tasks), or a stranger
            // whose registration came after its attempt ended: closed, counted and logged like any other refusal.
            throw new LinkAuth.Refused("registration under " + key + ", which is not the open attempt");
        }
        if (size != liveSize) {
            throw new LinkAuth.Refused("registration for " + size + " workers; the round has " + liveSize);
        }
        waiting.keySet().removeIf(k -> {
            if (k.equals(key)) {
                return false;
            }
            closeAll(waiting.get(k).sockets()); // a dead stage attempt's tasks
            return true;
        });
        Waiting w = waiting.computeIfAbsent(key, k -> new Waiting(size));
        if (w.sockets()[rank] != null) {
            throw new LinkAuth.Refused("rank " + rank + " registered twice under " + key);
        }
        w.sockets()[rank] = s;
        w.outs()[rank] = out;
        w.notes()[rank] = note;
        if (!w.complete()) {
            return;
        }
        for (DataOutputStream o : w.outs()) {
            try {
                for (String n : w.notes()) {
                    WireFields.writeString(o, n);
                }
                o.flush();
            } catch (IOException e) {
                // that task is gone: it fails and Spark fails the stage; the others still get their answer
            }
        }
        closeAll(w.sockets());
        waiting.remove(key);
    }

    /**
     * Ends the attempt: answers every waiting task with a closed connection and refuses late ones until the next
     * {@link #open}. After a failed attempt its surviving tasks may be waiting here for a peer that died, or arrive
     * only now; each keeps its task slot while it waits, and the re-run barrier stage needs every slot.
     */
    synchronized void abortWaiting() {
        live = null;
        waiting.values().forEach(w -> closeAll(w.sockets()));
        waiting.clear();
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

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The task side: proves it holds the run's secret, sends {@code note} as rank {@code rank} of {@code size} under
     * {@code key}; returns all notes. Gives up soon after {@code killed} turns true ({@link TaskSockets}).
     */
    static String[] gather(String address, String key, int rank, int size, String note, BooleanSupplier killed,
            WireSecurity mode, RingSecret secret) {
        int colon = address.lastIndexOf(':');
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    CONNECT_TIMEOUT_MS);
            s.setSoTimeout(CONNECT_TIMEOUT_MS);
            LinkAuth.Session session = LinkAuth.connect(s, mode, secret, WHERE);
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(session.output(s.getOutputStream())));
            WireFields.writeString(out, key);
            out.writeInt(size);
            out.writeInt(rank);
            WireFields.writeString(out, note);
            out.flush();
            DataInputStream in = new DataInputStream(session.input(TaskSockets.input(s, READ_TIMEOUT_MS, killed,
                    "ring rendezvous: rank " + rank + " waiting for the other ranks")));
            String[] all = new String[size];
            for (int i = 0; i < size; i++) {
                all[i] = WireFields.readString(in, MAX_NOTE_BYTES, "rank " + i + "'s note");
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
        readers.shutdownNow();
        synchronized (this) {
            waiting.values().forEach(w -> closeAll(w.sockets()));
            waiting.clear();
        }
    }
}
