package ai.pela.spark.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handshake every connection of the ring exchange starts with: a mutual HMAC-SHA256 challenge–response.
 *
 * <pre>
 * accepting side  → MAGIC, nonce_a (32 random bytes, fresh per connection)
 * connecting side → nonce_c, HMAC(K, "connect" | mode | context | nonce_a | nonce_c)
 * accepting side  → HMAC(K, "accept"  | mode | context | nonce_a | nonce_c)
 * </pre>
 *
 * K is the run's secret ({@link RingSecret}); {@code context} names what the connection is for (the rendezvous, or
 * one ring link of one attempt: "key/from>to"), so a proof made for one link or round is worth nothing on another,
 * and the mode is in the proof, so both ends agree on encryption. A recorded answer is worth nothing either: the
 * accepting side's nonce is new for each connection. With ENCRYPT both ends then derive per-direction AES-256-GCM keys
 * from K and both nonces ({@link SealedStreams}).
 *
 * <p>What this does not protect against without ENCRYPT: someone on the network path who lets a real handshake pass
 * and then alters or reads the bytes that follow.
 */
final class LinkAuth {
    private static final Logger LOG = LoggerFactory.getLogger(LinkAuth.class);
    static final int NONCE = 32;
    private static final int MAGIC = 0x50524731; // "PRG1"
    /** Connections turned away in this JVM (tests and logs). */
    private static final AtomicLong REFUSED = new AtomicLong();

    private LinkAuth() {
    }

    /** A failed handshake or a frame that fails validation: the connection is closed and nothing else changes. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** An authenticated connection: how its bytes are wrapped (plain, or AES-GCM frames with these keys). */
    record Session(WireSecurity mode, byte[] sendKey, byte[] receiveKey) {
        InputStream input(InputStream raw) {
            return mode == WireSecurity.ENCRYPT ? new SealedStreams.Opening(raw, receiveKey) : raw;
        }

        OutputStream output(OutputStream raw) {
            return mode == WireSecurity.ENCRYPT ? new SealedStreams.Sealing(raw, sendKey) : raw;
        }

        static Session plain() {
            return new Session(WireSecurity.NONE, null, null);
        }
    }

    /**
     * The accepting side. Reads with the socket's timeout (the caller sets a short one). Fails with {@link Refused}
     * for a peer without the secret, and with other IOExceptions for one that stops talking.
     */
    static Session accept(Socket s, WireSecurity mode, RingSecret secret, String context) throws IOException {
        if (!mode.authenticates()) {
            return Session.plain();
        }
        byte[] nonceA = nonce();
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(MAGIC);
        out.write(nonceA);
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] nonceC = new byte[NONCE];
        byte[] proof = new byte[NONCE];
        in.readFully(nonceC);
        in.readFully(proof);
        byte[] key = secret.key();
        if (!MessageDigest.isEqual(proof, proof(key, "connect", mode, context, nonceA, nonceC))) {
            throw new Refused("no proof of the run's secret for " + context);
        }
        out.write(proof(key, "accept", mode, context, nonceA, nonceC));
        out.flush();
        return session(key, mode, context, nonceA, nonceC, false);
    }

    /** The connecting side; fails when the accepting side cannot prove it holds the secret either. */
    static Session connect(Socket s, WireSecurity mode, RingSecret secret, String context) throws IOException {
        if (!mode.authenticates()) {
            return Session.plain();
        }
        DataInputStream in = new DataInputStream(s.getInputStream());
        if (in.readInt() != MAGIC) {
            throw new Refused("the listener at " + s.getRemoteSocketAddress() + " is not a pela ring endpoint");
        }
        byte[] nonceA = new byte[NONCE];
        in.readFully(nonceA);
        byte[] nonceC = nonce();
        byte[] key = secret.key();
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.write(nonceC);
        out.write(proof(key, "connect", mode, context, nonceA, nonceC));
        out.flush();
        byte[] answer = new byte[NONCE];
        in.readFully(answer);
        if (!MessageDigest.isEqual(answer, proof(key, "accept", mode, context, nonceA, nonceC))) {
            throw new Refused("the listener at " + s.getRemoteSocketAddress() + " does not hold the run's secret");
        }
        return session(key, mode, context, nonceA, nonceC, true);
    }

    /** Closes a connection that failed, counts it and logs who it came from. */
    static void refuse(Socket s, String where, Throwable why) {
        long n = REFUSED.incrementAndGet();
        LOG.warn("{}: refused a connection from {}: {} ({} refused in this process)", where,
                s.getRemoteSocketAddress(), why instanceof Refused ? why.getMessage() : why.toString(), n);
        try {
            s.close();
        } catch (IOException ignored) {
            // it is gone either way
        }
    }

    static long refused() {
        return REFUSED.get();
    }

    static byte[] proof(byte[] key, String role, WireSecurity mode, String context, byte[] nonceA, byte[] nonceC) {
        return hmac(key, utf8(role + "|" + mode + "|" + context + "|"), nonceA, nonceC);
    }

    /** HKDF-style: a key for this connection from both nonces, then one per direction. */
    private static Session session(byte[] key, WireSecurity mode, String context, byte[] nonceA, byte[] nonceC,
            boolean connecting) {
        if (mode != WireSecurity.ENCRYPT) {
            return new Session(mode, null, null);
        }
        byte[] prk = hmac(key, utf8("keys|" + context + "|"), nonceA, nonceC);
        byte[] toAccepting = hmac(prk, utf8("connecting->accepting"), new byte[] {1});
        byte[] toConnecting = hmac(prk, utf8("accepting->connecting"), new byte[] {1});
        return connecting ? new Session(mode, toAccepting, toConnecting) : new Session(mode, toConnecting, toAccepting);
    }

    static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    private static byte[] nonce() {
        byte[] n = new byte[NONCE];
        RANDOM.nextBytes(n);
        return n;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
