package ai.pela.zoo.data;

import ai.pela.zoo.PelaException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of (Fashion-)MNIST: big-endian magic {@code 0x000008<rank>} for unsigned bytes,
 * then one int per dimension, then the data. Plain or gzip-compressed ({@code .gz}). Hand-written: the format
 * is a dozen lines and no maintained Java library reads it.
 */
public final class Idx {
    private static final long MAX_BYTES = 1L << 30;

    /** An unsigned-byte array of the given dimensions, C order. */
    public record UByteArray(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        public int itemSize() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) {
                n *= dims[i];
            }
            return n;
        }

        public int unsigned(long index) {
            return data[(int) index] & 0xff;
        }
    }

    private Idx() {
    }

    public static UByteArray read(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(in, file.toString());
        } catch (java.nio.file.NoSuchFileException e) {
            throw new PelaException(file + ": file does not exist");
        } catch (IOException e) {
            throw new PelaException(file + ": cannot read IDX file: " + e.getMessage(), e);
        }
    }

    public static UByteArray read(InputStream stream, String source) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        try {
            int magic = in.readInt();
            if ((magic >>> 8) != 0x08) {
                throw new PelaException(source + ": not an unsigned-byte IDX file (magic 0x" + Integer.toHexString(magic) + ")");
            }
            int rank = magic & 0xff;
            if (rank < 1 || rank > 4) {
                throw new PelaException(source + ": IDX rank " + rank + " is not between 1 and 4");
            }
            int[] dims = new int[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = in.readInt();
                if (dims[i] < 0) {
                    throw new PelaException(source + ": negative IDX dimension " + dims[i]);
                }
                total *= dims[i];
                if (total > MAX_BYTES) {
                    throw new PelaException(source + ": IDX data of more than " + MAX_BYTES + " bytes");
                }
            }
            byte[] data = new byte[(int) total];
            in.readFully(data);
            return new UByteArray(dims, data);
        } catch (EOFException e) {
            throw new PelaException(source + ": truncated IDX file");
        }
    }
}
