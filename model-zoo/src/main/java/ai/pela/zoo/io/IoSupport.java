package ai.pela.zoo.io;

import ai.pela.zoo.PelaException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

/**
 * Plumbing shared by the hand-written checkpoint formats ({@link Safetensors}, {@link Npy}): bounded, chunked
 * little-endian reads and writes, user-facing errors, and atomic file replacement.
 */
final class IoSupport {
    /** Tensors move through a reusable buffer of this size; large enough that per-call overhead vanishes. */
    static final int CHUNK_BYTES = 1 << 20;

    /** The largest Java array the JVM can allocate; tensors are read into one primitive array each. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private IoSupport() {
    }

    /** Decodes or encodes {@code count} elements starting at element {@code first} from/to a little-endian buffer. */
    @FunctionalInterface
    interface ChunkCodec {
        void apply(ByteBuffer littleEndian, int first, int count);
    }

    static PelaException fail(String source, String problem) {
        return new PelaException(source + ": " + problem);
    }

    /** Mid-stream I/O failures are not format problems the user can fix, so they stay I/O exceptions. */
    static UncheckedIOException ioFailure(String source, IOException e) {
        return new UncheckedIOException(source + ": read failed: " + e.getMessage(), e);
    }

    /**
     * Reads exactly {@code n} bytes. {@code readNBytes} grows its buffer as data arrives, so a length claimed by a
     * corrupt file costs no more memory than the bytes actually present.
     */
    static byte[] readExactly(InputStream in, int n, String source, String what) {
        try {
            byte[] bytes = in.readNBytes(n);
            if (bytes.length < n) {
                throw truncated(source, what);
            }
            return bytes;
        } catch (IOException e) {
            throw ioFailure(source, e);
        }
    }

    static void skipExactly(InputStream in, long n, String source, String what) {
        try {
            in.skipNBytes(n);
        } catch (EOFException e) {
            throw truncated(source, what);
        } catch (IOException e) {
            throw ioFailure(source, e);
        }
    }

    /** Reads {@code count} elements of {@code itemSize} bytes via {@code chunk}, passing each piece to the codec. */
    static void readElements(InputStream in, int count, int itemSize, byte[] chunk, ChunkCodec decoder,
                             String source, String what) {
        int perChunk = chunk.length / itemSize;
        ByteBuffer le = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        try {
            for (int done = 0; done < count; ) {
                int n = Math.min(perChunk, count - done);
                if (in.readNBytes(chunk, 0, n * itemSize) < n * itemSize) {
                    throw truncated(source, what);
                }
                decoder.apply(le.clear().limit(n * itemSize), done, n);
                done += n;
            }
        } catch (IOException e) {
            throw ioFailure(source, e);
        }
    }

    /** Writes {@code count} elements of {@code itemSize} bytes, the codec filling {@code chunk} piece by piece. */
    static void writeElements(OutputStream out, long count, int itemSize, byte[] chunk, ChunkCodec encoder)
            throws IOException {
        int perChunk = chunk.length / itemSize;
        ByteBuffer le = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < count; ) {
            int n = (int) Math.min(perChunk, count - done);
            encoder.apply(le.clear().limit(n * itemSize), done, n);
            out.write(chunk, 0, n * itemSize);
            done += n;
        }
    }

    /** A chunk buffer no bigger than the largest tensor needs, so tiny files do not cost a megabyte each. */
    static byte[] chunkFor(long largestTensorBytes) {
        return new byte[(int) Math.max(8, Math.min(CHUNK_BYTES, largestTensorBytes))];
    }

    static PelaException truncated(String source, String what) {
        return fail(source, "truncated: the file ends inside " + what);
    }

    /** Opens a file for reading; a missing or unreadable file is a user error, not a stack trace. */
    static InputStream open(Path file) {
        try {
            return Files.newInputStream(file);
        } catch (NoSuchFileException e) {
            throw fail(file.toString(), "no such file");
        } catch (AccessDeniedException e) {
            throw fail(file.toString(), "permission denied");
        } catch (IOException e) {
            throw fail(file.toString(), "cannot open: " + e.getMessage());
        }
    }

    static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw fail(file.toString(), Files.exists(file) ? "cannot read its size: " + e : "no such file");
        }
    }

    /**
     * {@code a} itself when its buffer holds exactly its elements in C order, otherwise a C-order copy. Writers take
     * {@code data().asFloat()} and friends, which return the raw buffer and so are only correct for dense C arrays.
     */
    static INDArray denseC(INDArray a) {
        boolean dense = a.ordering() == 'c' && !a.isView() && Shape.hasDefaultStridesForShape(a)
                && a.data().length() == a.length();
        return dense ? a : a.dup('c');
    }

    /** Element count of {@code shape}, or -1 when it does not fit a long. */
    static long numel(long[] shape) {
        for (long d : shape) {
            if (d == 0) {
                return 0; // checked first so that [huge, huge, 0] is empty rather than an overflow
            }
        }
        long n = 1;
        for (long d : shape) {
            if (d != 0 && n > Long.MAX_VALUE / d) {
                return -1;
            }
            n *= d;
        }
        return n;
    }
}
