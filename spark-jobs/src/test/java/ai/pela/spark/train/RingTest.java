package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The ring between threads on loopback, the allGather played by a barrier (BarrierTaskContext's role). */
class RingTest {
    static final Ring.Link LINK = new Ring.Link(WireSecurity.AUTH, RingSecret.Drawn.fresh(), "test/0/0/0");

    interface RankBody {
        float[] run(Ring ring, float[] data);
    }

    static List<float[]> onRing(float[][] inputs, RankBody body) throws Exception {
        int n = inputs.length;
        ThreadGather g = new ThreadGather(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    try (Ring ring = Ring.join(rank, n, "127.0.0.1", "note" + rank, g.forRank(rank), () -> false,
                            LINK)) {
                        for (int i = 0; i < n; i++) {
                            if (!ring.notes()[i].equals("note" + i)) {
                                throw new AssertionError("rank " + rank + " got note " + ring.notes()[i] + " for rank " + i);
                            }
                        }
                        return body.run(ring, inputs[rank].clone());
                    }
                }));
            }
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : results) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[][] randomInputs(int ranks, int length, long seed) {
        Random rng = new Random(seed);
        float[][] x = new float[ranks][length];
        for (float[] row : x) {
            for (int i = 0; i < length; i++) {
                row[i] = (float) rng.nextGaussian();
            }
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5})
    void fp32SumEqualsTheSumOnEveryRank(int ranks) throws Exception {
        // A length that does not divide by the rank count, and one shorter than it (empty chunks).
        for (int length : new int[] {1003, 2}) {
            float[][] x = randomInputs(ranks, length, 7);
            List<float[]> got = onRing(x, (ring, d) -> {
                ring.sumInPlace(d, WirePrecision.FP32);
                return d;
            });
            for (int i = 0; i < length; i++) {
                double expected = 0;
                for (float[] row : x) {
                    expected += row[i];
                }
                for (float[] g : got) {
                    assertThat((double) g[i]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
                }
            }
            for (float[] g : got) {
                assertThat(g).as("every rank ends with the same bits").isEqualTo(got.get(0));
            }
        }
    }

    @Test
    void bf16SumIsCloseAndBitIdenticalOnEveryRank() throws Exception {
        int ranks = 4;
        float[][] x = randomInputs(ranks, 4096, 3);
        List<float[]> got = onRing(x, (ring, d) -> {
            ring.sumInPlace(d, WirePrecision.BF16);
            return d;
        });
        double maxRel = 0;
        for (int i = 0; i < 4096; i++) {
            double expected = 0;
            double scale = 0;
            for (float[] row : x) {
                expected += row[i];
                scale += Math.abs(row[i]);
            }
            maxRel = Math.max(maxRel, Math.abs(got.get(0)[i] - expected) / scale);
        }
        // BF16 keeps 8 significant bits, so an encoding errs by at most 2^-8 of its value; a sum is encoded once per
        // hop of the reduce-scatter and once by its owner, N times in all.
        assertThat(maxRel).isLessThan(ranks * Math.pow(2, -8)).isGreaterThan(0);
        for (float[] g : got) {
            assertThat(g).isEqualTo(got.get(0));
        }
    }

    @Test
    void broadcastCopiesTheRootsVectorToEveryRank() throws Exception {
        float[][] x = randomInputs(3, 100, 5);
        List<float[]> got = onRing(x, (ring, d) -> {
            ring.broadcast(d, 1);
            return d;
        });
        for (float[] g : got) {
            assertThat(g).isEqualTo(x[1]);
        }
    }

    /**
     * A rank whose neighbour stays alive but stops taking part (a task Spark killed that is still computing, or one
     * waiting elsewhere) gives up within about a second of its own task being killed, instead of holding its task slot
     * for the ten-minute read timeout.
     */
    /**
     * Silent strangers connected to every link before the real peers, more of them than are checked at once, with a
     * handshake deadline far longer than the test may take: checked one at a time, the first of them would hold its
     * link until the deadline; checked side by side, every link is made at once and the sum is exact.
     */
    @Test
    @Timeout(60)
    void silentStrangersThatConnectFirstDoNotHoldBackTheRealPeers() throws Exception {
        int strangersPerLink = LinkAcceptor.IN_FLIGHT + 2;
        List<Socket> strangers = java.util.Collections.synchronizedList(new ArrayList<>());
        int savedTimeout = Ring.handshakeTimeoutMs;
        long refusedBefore = LinkAuth.refused();
        Ring.handshakeTimeoutMs = 600_000;
        Ring.linkProbe = (rank, addresses, link) -> {
            String next = addresses[(rank + 1) % addresses.length];
            int colon = next.lastIndexOf(':');
            for (int i = 0; i < strangersPerLink; i++) {
                try {
                    strangers.add(new Socket(next.substring(0, colon), Integer.parseInt(next.substring(colon + 1))));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        try {
            float[][] x = randomInputs(3, 1000, 11);
            List<float[]> sums = onRing(x, (ring, v) -> {
                ring.sumInPlace(v, WirePrecision.FP32);
                return v;
            });
            float[] expected = new float[1000];
            for (float[] row : x) {
                for (int i = 0; i < expected.length; i++) {
                    expected[i] += row[i];
                }
            }
            for (float[] sum : sums) {
                assertThat(sum).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (LinkAuth.refused() - refusedBefore < 3L * strangersPerLink && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(LinkAuth.refused() - refusedBefore).as("strangers refused").isEqualTo(3L * strangersPerLink);
        } finally {
            Ring.linkProbe = null;
            Ring.handshakeTimeoutMs = savedTimeout;
            for (Socket s : strangers) {
                s.close();
            }
        }
    }

    @Test
    void aKilledRankStopsWaitingForASilentNeighbour() throws Exception {
        ThreadGather g = new ThreadGather(2);
        AtomicBoolean killed = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Ring> silent = pool.submit(() -> Ring.join(1, 2, "127.0.0.1", "b", g.forRank(1), () -> false,
                    LINK));
            Future<Long> waiting = pool.submit(() -> {
                try (Ring ring = Ring.join(0, 2, "127.0.0.1", "a", g.forRank(0), killed::get, LINK)) {
                    ring.sumInPlace(new float[1000], WirePrecision.FP32);
                    return -1L;
                } catch (PelaException e) {
                    assertThat(e).hasMessageContaining("rank 0 of 2").hasMessageContaining("killed");
                    return System.nanoTime();
                } finally {
                    done.countDown();
                }
            });
            Thread.sleep(1500);
            assertThat(done.getCount()).as("still waiting before the kill").isEqualTo(1);
            long killedAt = System.nanoTime();
            killed.set(true);
            long gaveUpAt = waiting.get(30, TimeUnit.SECONDS);
            assertThat(gaveUpAt).as("gave up because of the kill").isPositive();
            assertThat((gaveUpAt - killedAt) / 1e9).isLessThan(5.0);
            silent.get().close();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsSpecialValues() {
        assertThat(WirePrecision.BF16.round((1.0f))).isEqualTo(1.0f);
        assertThat(WirePrecision.BF16.round((-3.5f))).isEqualTo(-3.5f);
        // 1 + 2^-8 lies exactly between two BF16 values (1 and 1 + 2^-7): ties go to the even one, 1.
        assertThat(WirePrecision.BF16.round((1f + (float) Math.pow(2, -8)))).isEqualTo(1.0f);
        assertThat(WirePrecision.BF16.round((1f + 3 * (float) Math.pow(2, -8)))).isEqualTo(1f + (float) Math.pow(2, -6));
        assertThat(WirePrecision.BF16.round((Float.POSITIVE_INFINITY))).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(WirePrecision.BF16.round((Float.NaN))).isNaN();
        assertThat(WirePrecision.BF16.round((1e-30f))).isCloseTo(1e-30f, org.assertj.core.data.Percentage.withPercentage(0.5));
    }

    @Test
    void aWrongPrecisionNameIsRejectedNamingTheKey() {
        assertThatThrownBy(() -> WirePrecision.parse("fp8", "train.exchange-precision"))
                .isInstanceOf(PelaException.class).hasMessageContaining("train.exchange-precision")
                .hasMessageContaining("fp8");
    }
}
