package ai.pela.spark.train;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Blocking socket waits of a ring task that stop when Spark kills the task (the caller passes the task's
 * {@code TaskContext::isInterrupted}).
 *
 * <p>When one task of a barrier stage fails, Spark fails the stage and marks the others killed, but it does not
 * interrupt their threads, and a thread blocked in a socket read would not notice an interrupt anyway. A killed task
 * that kept waiting (for a peer that died, or at a rendezvous the driver has already given up) would hold its task
 * slot, and the re-run barrier stage, which starts only when every slot is free, would wait with it — for the whole
 * read timeout. So every wait here is a loop of one-second waits that checks the task's kill flag in between; the
 * overall limit applies to time without data, as a plain socket timeout would.
 */
final class TaskSockets {
    /** How often a waiting task checks whether it was killed. */
    static final int SLICE_MS = 1000;

    private TaskSockets() {
    }

    /**
     * The socket's input, failing with {@link SocketTimeoutException} after {@code idleTimeoutMs} without data and
     * with {@link InterruptedIOException} soon after {@code killed} turns true.
     */
    static InputStream input(Socket s, int idleTimeoutMs, BooleanSupplier killed, String what) throws IOException {
        s.setSoTimeout(Math.min(SLICE_MS, idleTimeoutMs));
        return new KillableInput(s.getInputStream(), idleTimeoutMs, killed, what);
    }

    /** {@link ServerSocket#accept()} with the same rules as {@link #input}. */
    static Socket accept(ServerSocket server, int timeoutMs, BooleanSupplier killed, String what) throws IOException {
        server.setSoTimeout(Math.min(SLICE_MS, timeoutMs));
        return untilKilled(server::accept, timeoutMs, killed, what);
    }

    /** A blocking call whose socket times out after one slice. */
    private interface SliceCall<T> {
        T call() throws IOException;
    }

    /** Repeats {@code call} while it times out, until it returns or {@link #check} gives up. */
    private static <T> T untilKilled(SliceCall<T> call, int limitMs, BooleanSupplier killed, String what)
            throws IOException {
        for (long waited = SLICE_MS; ; waited += SLICE_MS) {
            try {
                return call.call();
            } catch (SocketTimeoutException e) {
                check(waited, limitMs, killed, what);
            }
        }
    }

    /**
     * After {@code waitedMs} of waiting: fails with {@link InterruptedIOException} once {@code killed} is true, with
     * {@link SocketTimeoutException} once the wait reached {@code limitMs}.
     */
    static void check(long waitedMs, int limitMs, BooleanSupplier killed, String what) throws IOException {
        if (killed.getAsBoolean()) {
            throw new InterruptedIOException(what + ": the task was killed while waiting");
        }
        if (waitedMs >= limitMs) {
            throw new SocketTimeoutException(what + ": nothing came within " + limitMs / 1000 + " s");
        }
    }

    /**
     * Socket timeouts leave the socket usable and consume no data, so a timed-out read is simply tried again; the
     * caller sees either data or a final failure, never a timeout in the middle of a message.
     */
    private static final class KillableInput extends FilterInputStream {
        private final int idleTimeoutMs;
        private final BooleanSupplier killed;
        private final String what;

        KillableInput(InputStream in, int idleTimeoutMs, BooleanSupplier killed, String what) {
            super(in);
            this.idleTimeoutMs = idleTimeoutMs;
            this.killed = killed;
            this.what = what;
        }

        @Override
        public int read() throws IOException {
            return untilKilled(in::read, idleTimeoutMs, killed, what);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return untilKilled(() -> in.read(b, off, len), idleTimeoutMs, killed, what);
        }
    }
}
