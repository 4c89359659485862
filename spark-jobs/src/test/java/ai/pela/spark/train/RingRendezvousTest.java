package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The driver's rendezvous for ring tasks and the killable socket waits of the tasks, on loopback. */
class RingRendezvousTest {
    static final RingSecret SECRET = RingSecret.Drawn.fresh();

    @Test
    void theTasksOfTheOpenAttemptGetEveryRanksNoteInRankOrder() throws Exception {
        try (RingRendezvous r = new RingRendezvous("127.0.0.1", WireSecurity.AUTH, SECRET)) {
            r.open("run/3/0/", 3);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                Future<?>[] f = new Future<?>[3];
                for (int rank = 2; rank >= 0; rank--) {
                    int k = rank;
                    f[k] = pool.submit(() -> RingRendezvous.gather(r.address(), "run/3/0/0", k, 3, "n" + k, () -> false,
                            WireSecurity.AUTH, SECRET));
                }
                for (Future<?> x : f) {
                    assertThat((String[]) x.get(30, TimeUnit.SECONDS)).containsExactly("n0", "n1", "n2");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Registrations are read concurrently: a stranger who connects first and says nothing delays no task. */
    @Test
    void aSilentConnectionDelaysNoTask() throws Exception {
        try (RingRendezvous r = new RingRendezvous("127.0.0.1", WireSecurity.AUTH, SECRET);
             java.net.Socket silent = new java.net.Socket()) {
            r.open("run/3/0/", 2);
            int colon = r.address().lastIndexOf(':');
            silent.connect(new java.net.InetSocketAddress("127.0.0.1", Integer.parseInt(r.address().substring(colon + 1))));
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                long t0 = System.nanoTime();
                Future<String[]> a = pool.submit(() -> RingRendezvous.gather(r.address(), "run/3/0/0", 0, 2, "a",
                        () -> false, WireSecurity.AUTH, SECRET));
                Future<String[]> b = pool.submit(() -> RingRendezvous.gather(r.address(), "run/3/0/0", 1, 2, "b",
                        () -> false, WireSecurity.AUTH, SECRET));
                assertThat(a.get(30, TimeUnit.SECONDS)).containsExactly("a", "b");
                assertThat(b.get(30, TimeUnit.SECONDS)).containsExactly("a", "b");
                // Read one after the other, the tasks would wait out the stranger's 10 s deadline first.
                assertThat((System.nanoTime() - t0) / 1e9).isLessThan(5.0);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * A task of an attempt the driver already gave up — Spark can still start it, or it can arrive late — fails at
     * once instead of waiting for peers that will never come, so it frees its task slot for the re-run.
     */
    @Test
    void aTaskOfAGivenUpAttemptIsTurnedAwayAtOnce() throws Exception {
        try (RingRendezvous r = new RingRendezvous("127.0.0.1", WireSecurity.AUTH, SECRET)) {
            r.open("run/3/0/", 2);
            r.abortWaiting();
            long refused0 = LinkAuth.refused();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> RingRendezvous.gather(r.address(), "run/3/0/0", 0, 2, "late", () -> false,
                    WireSecurity.AUTH, SECRET))
                    .isInstanceOf(PelaException.class).hasMessageContaining("rank 0 of 2");
            r.open("run/3/1/", 2);
            assertThatThrownBy(() -> RingRendezvous.gather(r.address(), "run/3/0/0", 1, 2, "stale", () -> false,
                    WireSecurity.AUTH, SECRET))
                    .isInstanceOf(PelaException.class);
            // "run/3/1/" must not admit round 31's or attempt 10's keys either.
            assertThatThrownBy(() -> RingRendezvous.gather(r.address(), "run/31/1/0", 1, 2, "other", () -> false,
                    WireSecurity.AUTH, SECRET))
                    .isInstanceOf(PelaException.class);
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10.0);
            // Each is refused like any stranger (closed, counted, logged), whenever it comes: a count that does not
            // depend on whether a registration beat the end of its attempt.
            assertThat(LinkAuth.refused() - refused0).isEqualTo(3);
        }
    }

    @Test
    void aWaitingTaskIsReleasedWhenTheDriverGivesTheAttemptUp() throws Exception {
        try (RingRendezvous r = new RingRendezvous("127.0.0.1", WireSecurity.AUTH, SECRET)) {
            r.open("run/1/0/", 2);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<String[]> alone = pool.submit(() -> RingRendezvous.gather(r.address(), "run/1/0/0", 0, 2, "a",
                        () -> false, WireSecurity.AUTH, SECRET));
                Thread.sleep(500);
                r.abortWaiting();
                assertThatThrownBy(() -> alone.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(PelaException.class);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aKilledTaskStopsWaitingAtTheRendezvous() throws Exception {
        try (RingRendezvous r = new RingRendezvous("127.0.0.1", WireSecurity.AUTH, SECRET)) {
            r.open("run/1/0/", 2);
            AtomicBoolean killed = new AtomicBoolean();
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<String[]> alone = pool.submit(() -> RingRendezvous.gather(r.address(), "run/1/0/0", 0, 2, "a",
                        killed::get, WireSecurity.AUTH, SECRET));
                Thread.sleep(1500);
                assertThat(alone.isDone()).isFalse();
                killed.set(true);
                assertThatThrownBy(() -> alone.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(PelaException.class)
                        .hasMessageContaining("killed");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Data that arrives after several one-second waits is read whole: a timed-out wait consumes nothing. */
    @Test
    void slowDataArrivesWholeAndSilenceEndsInATimeout() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket peer = server.accept()) {
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                pool.submit(() -> {
                    OutputStream out = peer.getOutputStream();
                    out.write(new byte[] {1, 2, 3});
                    out.flush();
                    Thread.sleep(2500);
                    out.write(new byte[] {4, 5});
                    out.flush();
                    return null;
                });
                InputStream in = TaskSockets.input(client, 4000, () -> false, "test read");
                byte[] got = new byte[5];
                new DataInputStream(in).readFully(got);
                assertThat(got).containsExactly(1, 2, 3, 4, 5);
                long t0 = System.nanoTime();
                assertThatThrownBy(in::read).isExactlyInstanceOf(java.net.SocketTimeoutException.class)
                        .hasMessageContaining("test read").hasMessageContaining("nothing came within 4 s");
                assertThat((System.nanoTime() - t0) / 1e9).isBetween(3.0, 8.0);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
