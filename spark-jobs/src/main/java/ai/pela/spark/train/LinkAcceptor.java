package ai.pela.spark.train;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * Takes connections on a ring link's port until one proves it is the expected peer, checking up to
 * {@link #IN_FLIGHT} of them at once.
 *
 * <p>Checked one after another, every silent stranger that connected first would hold the real peer back for a whole
 * handshake timeout, and a handful of them would outlast the peer's own wait and fail the round. Checked at once, the
 * real peer proves itself within a round trip whatever else is connected. Beyond {@link #IN_FLIGHT} unproven
 * connections the oldest is closed, so a flood would have to outpace the real peer's round trip to push it out. The
 * port is closed as soon as one connection has proved itself: nobody else belongs on it.
 */
final class LinkAcceptor {
    /** Unproven connections checked at once; a newer one closes the oldest. */
    static final int IN_FLIGHT = 32;

    /** The handshake that a connection must pass; it throws for anything else. */
    interface Proof {
        LinkAuth.Session prove(Socket s) throws Exception;
    }

    /** The connection that proved itself, and its session. */
    record Accepted(Socket socket, LinkAuth.Session session) {
    }

    private final ServerSocket server;
    private final String where;
    private final Proof proof;
    /** Accepted connections whose handshake is still running; guarded by itself. */
    private final ArrayDeque<Socket> unproven = new ArrayDeque<>();
    private final CompletableFuture<Accepted> winner = new CompletableFuture<>();

    private LinkAcceptor(ServerSocket server, String where, Proof proof) {
        this.server = server;
        this.where = where;
        this.proof = proof;
    }

    /**
     * The first connection on {@code server} that passes {@code proof} within {@code timeoutMs}; every other one is
     * closed, counted and logged by {@link LinkAuth#refuse} naming {@code where}. Fails with
     * {@link SocketTimeoutException} when none proves itself in time and soon after {@code killed} turns true
     * ({@link TaskSockets}). Closes {@code server} once it returns or fails.
     */
    static Accepted firstProven(ServerSocket server, int timeoutMs, BooleanSupplier killed, String where, Proof proof)
            throws IOException {
        return new LinkAcceptor(server, where, proof).run(timeoutMs, killed);
    }

    private Accepted run(int timeoutMs, BooleanSupplier killed) throws IOException {
        ExecutorService provers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "pela-ring-handshake");
            t.setDaemon(true);
            return t;
        });
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        try {
            while (true) {
                if (winner.isDone()) {
                    return winner.join();
                }
                long leftMs = (deadline - System.nanoTime()) / 1_000_000;
                Socket s;
                try {
                    s = TaskSockets.accept(server, (int) Math.max(1, Math.min(TaskSockets.SLICE_MS, leftMs)), killed,
                            where);
                } catch (SocketTimeoutException e) {
                    if (leftMs <= TaskSockets.SLICE_MS && !winner.isDone()) {
                        throw new SocketTimeoutException(where + ": no connection proved itself within "
                                + timeoutMs / 1000 + " s");
                    }
                    continue; // one slice without a connection; the kill flag was checked
                } catch (IOException e) {
                    if (winner.isDone()) {
                        return winner.join(); // the winner closed the port to end this accept
                    }
                    throw e;
                }
                check(s, provers);
            }
        } finally {
            closeQuietly(server);
            provers.shutdownNow();
            closeUnproven();
        }
    }

    /** Runs {@code s}'s handshake beside the others, closing the oldest unproven connection when there are too many. */
    private void check(Socket s, ExecutorService provers) {
        Socket oldest = null;
        synchronized (unproven) {
            unproven.addLast(s);
            if (unproven.size() > IN_FLIGHT) {
                oldest = unproven.pollFirst();
            }
        }
        closeQuietly(oldest); // its handshake then fails and refuses it
        provers.execute(() -> prove(s));
    }

    private void prove(Socket s) {
        try {
            s.setTcpNoDelay(true);
            LinkAuth.Session session = proof.prove(s);
            synchronized (unproven) {
                if (!unproven.remove(s)) {
                    throw new LinkAuth.Refused("closed while it proved itself");
                }
            }
            if (!winner.complete(new Accepted(s, session))) {
                throw new LinkAuth.Refused("the link's peer had already connected");
            }
            closeQuietly(server);
        } catch (Throwable e) {
            synchronized (unproven) {
                unproven.remove(s);
            }
            LinkAuth.refuse(s, where, e);
        }
    }

    private void closeUnproven() {
        synchronized (unproven) {
            for (Socket s : unproven) {
                closeQuietly(s); // its handshake then fails and refuses it
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing to stop it: gone either way
            }
        }
    }
}
