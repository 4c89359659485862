package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Strangers at the ring exchange's ports during real ring rounds on local Spark (2 workers, 2 rounds), made
 * deterministic: before each attempt's tasks start, a stranger connects to the driver's rendezvous, and before rank 0
 * connects to rank 1 a stranger connects to rank 1's link — so each is the first connection its port sees. Every
 * stranger is refused and counted, and the run ends with exactly the parameters of the run without strangers.
 *
 * <p>The context runs with {@code spark.authenticate = true}, so the run's secret is the one derived from Spark's
 * application secret on the driver and the executors ({@link RingSecret.FromSpark}).
 */
class RingStrangersTest {
    static JavaSparkContext sc;
    static TrainState undisturbed;
    static int savedHandshakeMs;
    static int savedRegisterMs;
    final List<Socket> opened = new CopyOnWriteArrayList<>();
    final ExecutorService strangers = Executors.newCachedThreadPool();

    @BeforeAll
    static void start(@TempDir Path dir) {
        SparkConf conf = SparkContexts.conf("strangers", null, 2).set("spark.authenticate", "true")
                .set("spark.authenticate.secret", "the application's secret");
        sc = SparkContexts.create(conf);
        // A stranger that says nothing holds its port this long; the real peers answer within milliseconds.
        savedHandshakeMs = Ring.handshakeTimeoutMs;
        savedRegisterMs = RingRendezvous.registerTimeoutMs;
        Ring.handshakeTimeoutMs = 1000;
        RingRendezvous.registerTimeoutMs = 1000;
        undisturbed = run(dir.resolve("undisturbed"), WireSecurity.SPARK);
    }

    @AfterAll
    static void stop() {
        Ring.handshakeTimeoutMs = savedHandshakeMs;
        RingRendezvous.registerTimeoutMs = savedRegisterMs;
        sc.close();
    }

    @AfterEach
    void calmDown() throws IOException {
        Ring.linkProbe = null;
        RingExchange.rendezvousProbe = null;
        strangers.shutdownNow();
        for (Socket s : opened) {
            s.close();
        }
    }

    /** 2 rounds of 2 workers × 3 local steps; the second is a checkpoint round (moments averaged too). */
    static TrainState run(Path dir, WireSecurity security) {
        EpochPlan plan = new EpochPlan(ParameterAveragingTest.samples(96), 5, 2, 3, 8);
        ModelSpec spec = new ModelSpec(ParameterAveragingTest.CFG, null, null, RingExchangeTest.HYPER,
                new SerializableConf(sc.hadoopConfiguration()), "fp32", null);
        return new ParameterAveraging(sc, spec, new ParameterAveragingTest.ToySource(0), plan,
                new ParameterAveraging.Settings(2, 3, 2, 2, 5, ParameterAveraging.Exchange.RING, WirePrecision.FP32,
                        security),
                new Checkpoints(Storage.local(), Storage.path(dir.toString()), 10),
                new MetricsLog(Storage.local(), Storage.path(dir.toString()), 0)).run(RingExchangeTest.fresh());
    }

    /** What a stranger does once connected; {@code link} is true at a ring link, false at the rendezvous. */
    enum Stranger {
        /** The old protocol's greeting (a rank) and 4 MiB of floats, or an old-style registration. */
        NO_HANDSHAKE,
        WRONG_SECRET,
        /** A valid answer to another connection's challenge. */
        REPLAYED_HANDSHAKE,
        /** Authenticated at the rendezvous (a task gone wrong), registering 2^31-1 workers; a huge header at a link. */
        SIZE_2_31_MINUS_1,
        /** Authenticated at the rendezvous, registering rank 7 of 2; claiming rank 7 at a link. */
        RANK_OUT_OF_RANGE,
        /** Authenticated at the rendezvous, with a 60 000-byte key. */
        LONG_STRING,
        SILENT,
        RANDOM_BYTES
    }

    @ParameterizedTest
    @EnumSource(Stranger.class)
    void aStrangerAtEveryPortChangesNothing(Stranger stranger, @TempDir Path dir) throws Exception {
        long refused0 = LinkAuth.refused();
        strike(stranger);
        TrainState end = run(dir, WireSecurity.SPARK);
        assertThat(end.roundsDone()).isEqualTo(2);
        assertThat(end.params()).isEqualTo(undisturbed.params());
        assertThat(end.m()).isEqualTo(undisturbed.m());
        assertThat(end.v()).isEqualTo(undisturbed.v());
        // Each round: one stranger at the rendezvous, one at rank 1's link; each is turned away, none is taken.
        awaitRefused(refused0 + 4);
    }

    /** Sealed frames change no value: an encrypted run with strangers ends where the plain undisturbed one does. */
    @Test
    void anEncryptedRunWithStrangersEndsExactlyWhereTheAuthenticatedOneDoes(@TempDir Path dir) throws Exception {
        long refused0 = LinkAuth.refused();
        strike(Stranger.RANDOM_BYTES);
        TrainState end = run(dir, WireSecurity.ENCRYPT);
        assertThat(end.params()).isEqualTo(undisturbed.params());
        assertThat(end.m()).isEqualTo(undisturbed.m());
        awaitRefused(refused0 + 4);
    }

    private void strike(Stranger stranger) {
        RingExchange.rendezvousProbe = (address, security, secret, size, keyPrefix) ->
                connectThen(address, s -> atRendezvous(stranger, s, security, secret, keyPrefix));
        Ring.linkProbe = (rank, addresses, link) -> {
            if (rank == 0) { // rank 0 connects to rank 1: strike rank 1's link first
                connectThen(addresses[1], s -> atLink(stranger, s, link));
            }
        };
    }

    private interface Act {
        void on(Socket s) throws Exception;
    }

    /** Connects now (so the stranger is first in the port's queue), then acts on another thread. */
    private void connectThen(String address, Act act) {
        int colon = address.lastIndexOf(':');
        try {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))));
            opened.add(s);
            strangers.submit(() -> {
                try {
                    act.on(s);
                } catch (Exception e) {
                    // the port closed on the stranger: what it should do
                }
                return null;
            });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void atLink(Stranger stranger, Socket s, Ring.Link link) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        String context = link.context(0, 1);
        switch (stranger) {
            case NO_HANDSHAKE -> {
                out.writeInt(0);
                out.write(new byte[4 << 20]);
            }
            case WRONG_SECRET -> LinkAuthTest.answer(s, RingSecret.Drawn.fresh(), context, new Random(3));
            case REPLAYED_HANDSHAKE -> replay(s, link.secret(), context);
            case SIZE_2_31_MINUS_1 -> {
                out.writeInt(Integer.MAX_VALUE);
                out.write(new byte[1 << 16]);
            }
            case RANK_OUT_OF_RANGE -> out.writeInt(7);
            case SILENT, LONG_STRING -> {
                if (stranger == Stranger.LONG_STRING) {
                    out.writeShort(60_000);
                }
            }
            case RANDOM_BYTES -> out.write(random(1 << 16));
        }
        out.flush();
    }

    private static void atRendezvous(Stranger stranger, Socket s, WireSecurity security, RingSecret secret,
            String keyPrefix) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        switch (stranger) {
            case NO_HANDSHAKE -> {
                out.writeUTF(keyPrefix + "0");
                out.writeInt(2);
                out.writeInt(0);
                out.writeUTF("127.0.0.1:1 1");
            }
            case WRONG_SECRET -> LinkAuthTest.answer(s, RingSecret.Drawn.fresh(), "ring rendezvous", new Random(4));
            case REPLAYED_HANDSHAKE -> replay(s, secret, "ring rendezvous");
            case SIZE_2_31_MINUS_1 -> register(s, security, secret, keyPrefix + "0", Integer.MAX_VALUE, 0);
            case RANK_OUT_OF_RANGE -> register(s, security, secret, keyPrefix + "0", 2, 7);
            case LONG_STRING -> register(s, security, secret, "k".repeat(60_000), 2, 0);
            case SILENT -> {
            }
            case RANDOM_BYTES -> out.write(random(1 << 16));
        }
        out.flush();
    }

    /** Authenticates for real (the stranger holds the secret: a task gone wrong) and sends a bad registration. */
    private static void register(Socket s, WireSecurity security, RingSecret secret, String key, int size, int rank)
            throws IOException {
        s.setSoTimeout(5000);
        LinkAuth.Session session = LinkAuth.connect(s, security, secret, "ring rendezvous");
        DataOutputStream out = new DataOutputStream(session.output(s.getOutputStream()));
        WireFields.writeString(out, key);
        out.writeInt(size);
        out.writeInt(rank);
        WireFields.writeString(out, "127.0.0.1:1 1");
        out.flush();
        new DataInputStream(session.input(s.getInputStream())).read(); // until the driver closes it
    }

    /** Sends a proof that was valid for a challenge of an earlier connection, not for this one's. */
    private static void replay(Socket s, RingSecret secret, String context) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        in.readInt();
        in.readFully(new byte[LinkAuth.NONCE]);
        byte[] earlierChallenge = random(LinkAuth.NONCE);
        byte[] nonceC = random(LinkAuth.NONCE);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.write(nonceC);
        out.write(LinkAuth.proof(secret.key(), "connect", WireSecurity.AUTH, context, earlierChallenge, nonceC));
        out.flush();
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** Strangers that say nothing are refused only when their deadline passes, which may be after the run ends. */
    private static void awaitRefused(long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (LinkAuth.refused() < expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(LinkAuth.refused()).as("connections refused").isEqualTo(expected);
    }
}
