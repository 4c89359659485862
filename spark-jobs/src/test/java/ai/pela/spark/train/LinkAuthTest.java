package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The handshake and the sealed frames of the ring exchange's connections, on loopback. */
class LinkAuthTest {
    static final RingSecret SECRET = RingSecret.Drawn.fresh();
    ServerSocket server;
    ExecutorService pool;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void close() throws IOException {
        pool.shutdownNow();
        server.close();
    }

    /**
     * Accepts one connection, runs the accepting handshake on it and closes it; the future fails when it is refused.
     */
    Future<LinkAuth.Session> acceptOne(WireSecurity mode, String context) {
        return pool.submit(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5000);
                return LinkAuth.accept(s, mode, SECRET, context);
            }
        });
    }

    Socket dial() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        s.setSoTimeout(5000);
        return s;
    }

    @Test
    void peersWithTheSecretTalkThroughSealedFramesBothWays() throws Exception {
        Future<?> echo = pool.submit(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5000);
                LinkAuth.Session session = LinkAuth.accept(s, WireSecurity.ENCRYPT, SECRET, "link");
                DataInputStream in = new DataInputStream(session.input(s.getInputStream()));
                DataOutputStream out = new DataOutputStream(session.output(s.getOutputStream()));
                byte[] got = new byte[200_000];
                in.readFully(got);
                out.write(got);
                out.flush();
            }
            return null;
        });
        byte[] sent = new byte[200_000]; // three frames and a bit
        new Random(1).nextBytes(sent);
        try (Socket s = dial()) {
            LinkAuth.Session session = LinkAuth.connect(s, WireSecurity.ENCRYPT, SECRET, "link");
            assertThat(session.sendKey()).isNotEqualTo(session.receiveKey());
            OutputStream out = session.output(s.getOutputStream());
            out.write(sent);
            out.flush();
            byte[] back = new byte[sent.length];
            new DataInputStream(session.input(s.getInputStream())).readFully(back);
            assertThat(back).isEqualTo(sent);
        }
        echo.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aWrongSecretIsRefusedByBothSides() throws Exception {
        Future<LinkAuth.Session> accepted = acceptOne(WireSecurity.AUTH, "link");
        try (Socket s = dial()) {
            assertThatThrownBy(() -> LinkAuth.connect(s, WireSecurity.AUTH, RingSecret.Drawn.fresh(), "link"))
                    .isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> accepted.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LinkAuth.Refused.class);
    }

    /** A proof is bound to what the connection is for and to the mode: neither carries over. */
    @Test
    void aProofForAnotherLinkOrModeIsRefused() throws Exception {
        Future<LinkAuth.Session> otherLink = acceptOne(WireSecurity.AUTH, "run/1/0/0/0>1");
        try (Socket s = dial()) {
            assertThatThrownBy(() -> LinkAuth.connect(s, WireSecurity.AUTH, SECRET, "run/1/0/0/1>0"))
                    .isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> otherLink.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LinkAuth.Refused.class);
        Future<LinkAuth.Session> otherMode = acceptOne(WireSecurity.ENCRYPT, "link");
        try (Socket s = dial()) {
            assertThatThrownBy(() -> LinkAuth.connect(s, WireSecurity.AUTH, SECRET, "link")).isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> otherMode.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LinkAuth.Refused.class);
    }

    /** An answer recorded from a connection that was accepted is refused on the next: the challenge is new. */
    @Test
    void aReplayedAnswerIsRefused() throws Exception {
        Future<LinkAuth.Session> first = acceptOne(WireSecurity.AUTH, "link");
        byte[] recorded;
        try (Socket s = dial()) {
            recorded = answer(s, SECRET, "link", new Random(2));
            new DataInputStream(s.getInputStream()).readFully(new byte[LinkAuth.NONCE]); // the accepting side's proof
        }
        assertThat(first.get(10, TimeUnit.SECONDS)).isNotNull();
        Future<LinkAuth.Session> second = acceptOne(WireSecurity.AUTH, "link");
        try (Socket s = dial()) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readInt();
            in.readFully(new byte[LinkAuth.NONCE]);
            s.getOutputStream().write(recorded);
        }
        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LinkAuth.Refused.class);
    }

    /** What a real connecting side sends for the challenge it reads from {@code s}: nonce and proof. */
    static byte[] answer(Socket s, RingSecret secret, String context, Random rng) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        in.readInt();
        byte[] nonceA = new byte[LinkAuth.NONCE];
        in.readFully(nonceA);
        byte[] nonceC = new byte[LinkAuth.NONCE];
        rng.nextBytes(nonceC);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(nonceC);
        b.write(LinkAuth.proof(secret.key(), "connect", WireSecurity.AUTH, context, nonceA, nonceC));
        s.getOutputStream().write(b.toByteArray());
        s.getOutputStream().flush();
        return b.toByteArray();
    }

    @Test
    void anAlteredSealedFrameFailsToOpen() throws Exception {
        byte[] key = new byte[32];
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        OutputStream out = new SealedStreams.Sealing(wire, key);
        out.write(new byte[1000]);
        out.flush();
        byte[] frame = wire.toByteArray();
        frame[100] ^= 1;
        InputStream in = new SealedStreams.Opening(new ByteArrayInputStream(frame), key);
        assertThatThrownBy(in::read).isInstanceOf(LinkAuth.Refused.class).hasMessageContaining("failed authentication");
    }

    @Test
    void aFrameReplayedOrReorderedFailsToOpen() throws Exception {
        byte[] key = new byte[32];
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        OutputStream out = new SealedStreams.Sealing(wire, key);
        out.write(1);
        out.flush();
        byte[] one = wire.toByteArray();
        byte[] twice = new byte[2 * one.length];
        System.arraycopy(one, 0, twice, 0, one.length);
        System.arraycopy(one, 0, twice, one.length, one.length);
        InputStream in = new SealedStreams.Opening(new ByteArrayInputStream(twice), key);
        assertThat(in.read()).isEqualTo(1);
        assertThatThrownBy(in::read).isInstanceOf(LinkAuth.Refused.class);
    }

    /** A frame header of 2^31-1 bytes is refused before anything is allocated or read. */
    @Test
    void aHugeFrameLengthIsRefusedBeforeReading() {
        byte[] header = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        InputStream in = new SealedStreams.Opening(new ByteArrayInputStream(header), new byte[32]);
        assertThatThrownBy(in::read).isInstanceOf(LinkAuth.Refused.class).hasMessageContaining("2147483647");
    }

    @Test
    void sparkModeEncryptsWhenTheClusterDoes() {
        assertThat(WireSecurity.SPARK.resolve(new SparkConf(false))).isEqualTo(WireSecurity.AUTH);
        assertThat(WireSecurity.SPARK.resolve(new SparkConf(false).set("spark.network.crypto.enabled", "true")))
                .isEqualTo(WireSecurity.ENCRYPT);
        assertThat(WireSecurity.SPARK.resolve(new SparkConf(false).set("spark.ssl.enabled", "true")))
                .isEqualTo(WireSecurity.ENCRYPT);
        assertThat(WireSecurity.AUTH.resolve(new SparkConf(false).set("spark.ssl.enabled", "true")))
                .isEqualTo(WireSecurity.AUTH);
        assertThatThrownBy(() -> WireSecurity.parse("none", "train.exchange-security"))
                .hasMessageContaining("train.exchange-security").hasMessageContaining("'none'");
    }

    @Test
    void theSecretDerivesFromSparksWhenSparkAuthenticatesAndIsDrawnPerRunOtherwise() {
        assertThat(RingSecret.forRun(new SparkConf(false).set("spark.authenticate", "true"), "r"))
                .isInstanceOf(RingSecret.FromSpark.class);
        RingSecret a = RingSecret.forRun(new SparkConf(false), "r");
        RingSecret b = RingSecret.forRun(new SparkConf(false), "r");
        assertThat(a).isInstanceOf(RingSecret.Drawn.class);
        assertThat(a.key()).hasSize(32).isNotEqualTo(b.key());
        assertThat(a.toString()).doesNotContain(java.util.HexFormat.of().formatHex(a.key()));
    }
}
