package ai.pela.spark.train;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM framing of one direction of an authenticated connection ({@link LinkAuth}): each frame is a 4-byte
 * length and the sealed bytes (at most {@link #FRAME} plaintext bytes plus the 16-byte tag). The nonce is the frame's
 * number, so a frame dropped, repeated, reordered or altered fails to open; the key belongs to this direction of this
 * connection alone, so no nonce is ever used twice under a key.
 */
final class SealedStreams {
    /** Plaintext bytes per frame: large enough that the per-frame cost vanishes, small enough to stream. */
    static final int FRAME = 1 << 16;
    private static final int TAG_BITS = 128;
    private static final int TAG = TAG_BITS / 8;

    private SealedStreams() {
    }

    private static Cipher cipher() {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every Java runtime", e);
        }
    }

    private static GCMParameterSpec nonce(long counter) {
        byte[] iv = new byte[12];
        for (int i = 0; i < 8; i++) {
            iv[11 - i] = (byte) (counter >>> (8 * i));
        }
        return new GCMParameterSpec(TAG_BITS, iv);
    }

    /** Buffers up to one frame and seals it on {@link #flush} or when full. */
    static final class Sealing extends OutputStream {
        private final OutputStream out;
        private final SecretKeySpec key;
        private final Cipher cipher = cipher();
        private final byte[] plain = new byte[FRAME];
        private final byte[] sealed = new byte[4 + FRAME + TAG];
        private int filled;
        private long counter;

        Sealing(OutputStream out, byte[] key) {
            this.out = out;
            this.key = new SecretKeySpec(key, "AES");
        }

        @Override
        public void write(int b) throws IOException {
            if (filled == FRAME) {
                seal();
            }
            plain[filled++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (filled == FRAME) {
                    seal();
                }
                int n = Math.min(len, FRAME - filled);
                System.arraycopy(b, off, plain, filled, n);
                filled += n;
                off += n;
                len -= n;
            }
        }

        @Override
        public void flush() throws IOException {
            if (filled > 0) {
                seal();
            }
            out.flush();
        }

        private void seal() throws IOException {
            try {
                cipher.init(Cipher.ENCRYPT_MODE, key, nonce(counter++));
                int n = cipher.doFinal(plain, 0, filled, sealed, 4);
                sealed[0] = (byte) (n >>> 24);
                sealed[1] = (byte) (n >>> 16);
                sealed[2] = (byte) (n >>> 8);
                sealed[3] = (byte) n;
                out.write(sealed, 0, 4 + n);
                filled = 0;
            } catch (GeneralSecurityException e) {
                throw new IOException("sealing a frame: " + e, e);
            }
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** Opens frames in order; a frame whose length or tag is wrong ends the stream with {@link LinkAuth.Refused}. */
    static final class Opening extends InputStream {
        private final DataInputStream in;
        private final SecretKeySpec key;
        private final Cipher cipher = cipher();
        private final byte[] sealed = new byte[FRAME + TAG];
        private final byte[] plain = new byte[FRAME + TAG];
        private int pos;
        private int end;
        private long counter;

        Opening(InputStream in, byte[] key) {
            this.in = new DataInputStream(in);
            this.key = new SecretKeySpec(key, "AES");
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return plain[pos++] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, end - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }

        /** Opens the next frame when this one is used up; false at a clean end of stream. */
        private boolean fill() throws IOException {
            while (pos == end) {
                int n;
                try {
                    n = in.readInt();
                } catch (EOFException e) {
                    return false;
                }
                // The length comes from the wire: checked against what a frame can be before anything is read.
                if (n < TAG || n > FRAME + TAG) {
                    throw new LinkAuth.Refused("sealed frame of " + n + " bytes (at most " + (FRAME + TAG) + ")");
                }
                in.readFully(sealed, 0, n);
                try {
                    cipher.init(Cipher.DECRYPT_MODE, key, nonce(counter++));
                    end = cipher.doFinal(sealed, 0, n, plain, 0);
                    pos = 0;
                } catch (AEADBadTagException e) {
                    throw new LinkAuth.Refused("a sealed frame failed authentication (altered, replayed or reordered)");
                } catch (GeneralSecurityException e) {
                    throw new IOException("opening a frame: " + e, e);
                }
            }
            return true;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
