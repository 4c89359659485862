package ai.pela.spark.train;

import ai.pela.zoo.PelaException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * A ring all-reduce between the N tasks of one round, over plain TCP: rank i sends to rank i+1 and receives from
 * rank i-1. A sum is a reduce-scatter (N-1 steps, each rank ends owning the full sum of one N-th of the vector)
 * followed by an all-gather (N-1 steps), so every link carries 2·(N-1)/N of the vector whatever N is — the
 * bandwidth-optimal exchange that treeAggregate (⌈√N⌉ copies through one node, then the driver) is not.
 *
 * <p>Hand-written because nothing on a Spark executor offers a collective for large arrays: BarrierTaskContext's
 * allGather carries strings through the driver (and costs a second per call), and Gloo/NCCL/Horovod have no Java
 * bindings that ND4J's CPU and CUDA backends could share. The addresses are exchanged through the driver's
 * {@link RingRendezvous}; each step's send runs on a second
 * thread while the receive runs on the caller's, so two ranks sending to each other cannot block on full buffers.
 *
 * <p>Each link starts with {@link LinkAuth}'s handshake: a rank accepts only the connection that proves it is its
 * previous rank of this attempt, and with {@link WireSecurity#ENCRYPT} the link's bytes travel in AES-GCM frames
 * ({@link SealedStreams}). On the wire a value is FP32, or BF16 (the upper 16 bits, rounded to nearest even) to halve
 * the bytes. With BF16 every rank decodes the same bits for the final sums — the owner of a chunk too — so all ranks end bit-identical.
 */
final class Ring implements Closeable {
    private static final int CONNECT_TIMEOUT_MS = 60_000;
    private static final int READ_TIMEOUT_MS = 600_000;

    private final int rank;
    private final int size;
    private final Socket toNext;
    private final Socket fromPrev;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final ExecutorService sender;
    private final String[] notes;
    private final BooleanSupplier killed;

    private Ring(int rank, int size, Socket toNext, Socket fromPrev, LinkAuth.Session outSession,
            LinkAuth.Session inSession, String[] notes, BooleanSupplier killed) throws IOException {
        this.notes = notes;
        this.killed = killed;
        this.rank = rank;
        this.size = size;
        this.toNext = toNext;
        this.fromPrev = fromPrev;
        this.out = toNext == null ? null : new DataOutputStream(new BufferedOutputStream(
                outSession.output(toNext.getOutputStream()), 1 << 16));
        this.in = fromPrev == null ? null : new DataInputStream(new BufferedInputStream(inSession.input(
                TaskSockets.input(fromPrev, READ_TIMEOUT_MS, killed, "ring: rank " + rank + " receiving from rank "
                        + (rank + size - 1) % size)), 1 << 16));
        this.sender = size == 1 ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pela-ring-send-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * How this ring's links prove themselves ({@link LinkAuth}): the mode, the run's secret and the attempt's key,
     * which with the two ranks names each link, so that no proof carries over to another link, round or attempt.
     */
    record Link(WireSecurity mode, RingSecret secret, String attempt) implements java.io.Serializable {
        String context(int from, int to) {
            return attempt + "/" + from + ">" + to;
        }
    }

    /** Tests only: runs on each rank after the addresses are known and before the rank connects to the next one. */
    interface LinkProbe {
        void beforeConnect(int rank, String[] addresses, Link link);
    }

    static volatile LinkProbe linkProbe;
    /** How long an accepted connection has to prove itself before it is closed. */
    static volatile int handshakeTimeoutMs = 10_000;

    /**
     * Joins the ring: listens on an ephemeral port of {@code host}, publishes "host:port note" through
     * {@code allGather} (which must return every rank's string in rank order, see {@link RingRendezvous}), connects to
     * the next rank and accepts the previous one — the first connection that proves it is that rank of this attempt
     * ({@link LinkAuth}, checked beside any others by {@link LinkAcceptor}); every other connection is closed, counted
     * and logged. Every rank's {@code note} (no spaces) is in {@link #notes()}. Every wait of this ring gives up soon
     * after {@code killed} turns true ({@link TaskSockets}).
     */
    static Ring join(int rank, int size, String host, String note, UnaryOperator<String[]> allGather,
            BooleanSupplier killed, Link link) {
        if (size == 1) {
            try {
                return new Ring(0, 1, null, null, null, null, new String[] {note}, killed);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        int prev = (rank + size - 1) % size;
        int next = (rank + 1) % size;
        AtomicReference<Socket> toNext = new AtomicReference<>();
        Socket fromPrev = null;
        ExecutorService connector = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pela-ring-connect-" + rank);
            t.setDaemon(true);
            return t;
        });
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(host, 0));
            String[] published = allGather.apply(new String[] {host + ":" + server.getLocalPort() + " " + note});
            String[] addresses = new String[size];
            String[] notes = new String[size];
            parse(published, size, addresses, notes);
            LinkProbe probe = linkProbe;
            if (probe != null) {
                probe.beforeConnect(rank, addresses, link);
            }
            // Connecting and accepting run at once: a handshake needs the other end's answer, and every rank both
            // connects (to the next) and accepts (from the previous), so doing one after the other would deadlock.
            Future<LinkAuth.Session> outSession = connector.submit(() -> connectNext(addresses[next], toNext, link,
                    link.context(rank, next)));
            LinkAcceptor.Accepted in = acceptPrevious(server, rank, prev, link, killed);
            fromPrev = in.socket();
            LinkAuth.Session out = await(outSession, killed, "ring: rank " + rank + " connecting to rank " + next);
            return new Ring(rank, size, toNext.get(), fromPrev, out, in.session(), notes, killed);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fromPrev);
            connector.shutdownNow();
            closeQuietly(toNext.get());
            if (e instanceof PelaException pe) {
                throw pe;
            }
            throw new PelaException("ring: rank " + rank + " of " + size + " could not connect on " + host + ": " + e, e);
        } finally {
            connector.shutdown();
        }
    }

    /** Splits the published "host:port note" strings, checking each (they come from the wire). */
    private static void parse(String[] published, int size, String[] addresses, String[] notes) {
        if (published.length != size) {
            throw new PelaException("ring: the rendezvous answered " + published.length + " ranks, expected " + size);
        }
        for (int i = 0; i < size; i++) {
            int space = published[i].indexOf(' ');
            int colon = space < 0 ? -1 : published[i].lastIndexOf(':', space);
            int port = colon < 0 ? -1 : parsePort(published[i].substring(colon + 1, space));
            if (port < 1 || port > 65_535) {
                throw new PelaException("ring: rank " + i + " published '" + published[i] + "', not 'host:port note'");
            }
            addresses[i] = published[i].substring(0, space);
            notes[i] = published[i].substring(space + 1);
        }
    }

    private static int parsePort(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static LinkAuth.Session connectNext(String address, AtomicReference<Socket> into,
            Link link, String context) throws IOException {
        int colon = address.lastIndexOf(':');
        Socket s = new Socket();
        into.set(s);
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                CONNECT_TIMEOUT_MS);
        s.setSoTimeout(CONNECT_TIMEOUT_MS);
        return LinkAuth.connect(s, link.mode(), link.secret(), context);
    }

    /**
     * The first connection that proves it is rank {@code prev} of this attempt ({@link LinkAcceptor}: strangers, junk
     * and tasks of another round are checked beside it, each with {@link #handshakeTimeoutMs} to prove itself, and
     * closed, counted and logged).
     */
    private static LinkAcceptor.Accepted acceptPrevious(ServerSocket server, int rank, int prev, Link link,
            BooleanSupplier killed) throws IOException {
        String context = link.context(prev, rank);
        return LinkAcceptor.firstProven(server, CONNECT_TIMEOUT_MS, killed,
                "ring: rank " + rank + "'s link from rank " + prev, s -> {
                    s.setSoTimeout(handshakeTimeoutMs);
                    return LinkAuth.accept(s, link.mode(), link.secret(), context);
                });
    }

    /** Waits for the connecting side's handshake, with the limits of a read ({@link TaskSockets}). */
    private static LinkAuth.Session await(Future<LinkAuth.Session> f, BooleanSupplier killed, String what)
            throws IOException {
        for (long waited = TaskSockets.SLICE_MS; ; waited += TaskSockets.SLICE_MS) {
            try {
                return f.get(TaskSockets.SLICE_MS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                TaskSockets.check(waited, 2 * CONNECT_TIMEOUT_MS, killed, what);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(what + ": " + e.getCause(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException(what + ": interrupted");
            }
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // giving up on this ring anyway
            }
        }
    }

    /** Every rank's note from {@link #join}, in rank order. */
    String[] notes() {
        return notes;
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    /** Replaces {@code data} on every rank by the element-wise sum of all ranks' {@code data} (same length everywhere). */
    void sumInPlace(float[] data, WirePrecision p) {
        if (size == 1) {
            return;
        }
        // Reduce-scatter: at step s rank r sends chunk (r - s) and adds the received chunk (r - s - 1) into its own.
        for (int s = 0; s < size - 1; s++) {
            int send = Math.floorMod(rank - s, size);
            int recv = Math.floorMod(rank - s - 1, size);
            exchange(data, send, recv, p, true);
        }
        // Rank r now owns the full sum of chunk (r + 1); with BF16 it keeps what the others will decode.
        int owned = Math.floorMod(rank + 1, size);
        for (int i = chunkStart(data.length, owned); i < chunkStart(data.length, owned + 1); i++) {
            data[i] = p.round(data[i]);
        }
        // All-gather: at step s rank r passes on chunk (r + 1 - s) and stores the received chunk (r - s).
        for (int s = 0; s < size - 1; s++) {
            int send = Math.floorMod(rank + 1 - s, size);
            int recv = Math.floorMod(rank - s, size);
            exchange(data, send, recv, p, false);
        }
    }

    /** Makes every rank's {@code data} equal to {@code root}'s, passed along the ring. */
    void broadcast(float[] data, int root) {
        if (size == 1) {
            return;
        }
        int hops = Math.floorMod(rank - root, size); // how far downstream of the root this rank is
        try {
            if (hops != 0) {
                read(data, 0, data.length, WirePrecision.FP32, false);
            }
            if (hops != size - 1) {
                write(data, 0, data.length, WirePrecision.FP32);
                out.flush();
            }
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private void exchange(float[] data, int sendChunk, int recvChunk, WirePrecision p, boolean add) {
        int sFrom = chunkStart(data.length, sendChunk);
        int sTo = chunkStart(data.length, sendChunk + 1);
        Future<?> sent = sender.submit(() -> {
            write(data, sFrom, sTo, p);
            out.flush();
            return null;
        });
        try {
            read(data, chunkStart(data.length, recvChunk), chunkStart(data.length, recvChunk + 1), p, add);
            awaitSent(sent);
        } catch (IOException e) {
            sent.cancel(true);
            throw failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PelaException("ring: rank " + rank + " interrupted", e);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
    }

    /**
     * Waits for this step's send, which blocks while the next rank is not reading; a send never completes if that rank
     * stopped without closing its end, so the wait has the same limits as a read (the caller cancels the send).
     */
    private void awaitSent(Future<?> sent) throws IOException, InterruptedException, ExecutionException {
        for (long waited = TaskSockets.SLICE_MS; ; waited += TaskSockets.SLICE_MS) {
            try {
                sent.get(TaskSockets.SLICE_MS, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                TaskSockets.check(waited, READ_TIMEOUT_MS, killed, "ring: rank " + rank + " sending to rank "
                        + (rank + 1) % size);
            }
        }
    }

    private int chunkStart(int length, int chunk) {
        return (int) ((long) length * chunk / size);
    }

    private void write(float[] data, int from, int to, WirePrecision p) throws IOException {
        byte[] bytes = p.pack(data, from, to);
        out.write(bytes);
    }

    private void read(float[] data, int from, int to, WirePrecision p, boolean add) throws IOException {
        byte[] bytes = new byte[(to - from) * p.bytes];
        in.readFully(bytes);
        p.unpack(bytes, data, from, add);
    }

    private PelaException failure(Throwable e) {
        return new PelaException("ring: rank " + rank + " of " + size + " lost its neighbour: " + e, e);
    }

    @Override
    public void close() {
        if (sender != null) {
            sender.shutdownNow();
        }
        for (Socket s : new Socket[] {toNext, fromPrev}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing after the exchange: nothing left to lose
                }
            }
        }
    }
}
