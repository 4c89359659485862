package ai.pela.spark.data;

import ai.pela.zoo.PelaException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * Walks the headers of a tar file (POSIX ustar, GNU and pax) without reading member data, so the driver can index a
 * shard by reading 512 bytes per member and seeking past the rest. Hand-written because the index needs each
 * member's data offset, which no tar library exposes, and because the input is untrusted: every name is checked
 * for absolute paths and {@code ..} segments, every size against the file's length, and the long-name (GNU
 * {@code L}) and pax ({@code x}) extension records against small bounds before they are read.
 */
final class TarReader implements Closeable {
    static final int BLOCK = 512;
    static final int MAX_LONG_NAME = 4096;
    static final int MAX_PAX_HEADER = 64 * 1024;

    /** A regular member: its name and where its data lies in the file. */
    record Entry(String name, long offset, long size) {
    }

    private final FSDataInputStream in;
    private final String shard;
    private final long fileLength;
    private final byte[] header = new byte[BLOCK];
    private long pos;

    TarReader(FSDataInputStream in, String shard, long fileLength) {
        this.in = in;
        this.shard = shard;
        this.fileLength = fileLength;
    }

    /** The next regular file, or null at the end of the archive. Directories, links and devices are passed over. */
    Entry next() {
        String longName = null;
        PaxHeader pax = PaxHeader.NONE;
        while (true) {
            if (!readHeader()) {
                return null;
            }
            char type = (char) header[156];
            // A pending long name or pax record describes the next real entry, not another extension record.
            boolean extension = type == 'L' || type == 'x' || type == 'g' || type == 'K';
            String name = extension || pax.path() == null && longName == null ? headerName()
                    : pax.path() != null ? pax.path() : longName;
            long size = !extension && pax.size() >= 0 ? pax.size() : number(124, 12, "size", name);
            long offset = pos + BLOCK;
            checkInside(name, offset, size);
            pos = offset + roundUp(size);
            switch (type) {
                case 'L' -> longName = cString(readData(name, offset, size, MAX_LONG_NAME));
                case 'x' -> pax = PaxHeader.parse(readData(name, offset, size, MAX_PAX_HEADER), shard);
                case 'g', 'K' -> { /* global pax header and GNU long link name: nothing a sample needs */ }
                default -> {
                    checkName(name);
                    if (type == '0' || type == '\0' || type == '7') {
                        return new Entry(name, offset, size);
                    }
                    longName = null;
                    pax = PaxHeader.NONE;
                }
            }
        }
    }

    /** The data of an entry, which must be at most {@code max} bytes. */
    byte[] read(Entry e, int max) {
        return readData(e.name(), e.offset(), e.size(), max);
    }

    private boolean readHeader() {
        if (pos == 0 && fileLength < BLOCK) {
            throw new PelaException(shard + ": not a tar file: " + fileLength + " bytes, less than one tar header");
        }
        if (pos + BLOCK > fileLength) {
            throw new PelaException(shard + ": truncated tar shard: it ends at byte " + fileLength
                    + " without tar's end-of-archive marker");
        }
        readFully(pos, header, "header");
        if (allZero(header)) {
            return false; // the end-of-archive marker (a second zero block may follow; nothing after it counts)
        }
        verifyChecksum();
        return true;
    }

    private byte[] readData(String name, long offset, long size, int max) {
        if (size > max) {
            throw new PelaException(shard + ": member " + name + " of " + size + " bytes exceeds the limit of "
                    + max + " bytes");
        }
        byte[] data = new byte[(int) size];
        readFully(offset, data, "member " + name);
        return data;
    }

    private void readFully(long at, byte[] buf, String what) {
        try {
            if (in.getPos() != at) {
                in.seek(at);
            }
            in.readFully(buf);
        } catch (EOFException e) {
            throw new PelaException(shard + ": truncated tar shard: end of file inside " + what, e);
        } catch (IOException e) {
            throw new UncheckedIOException(shard + ": cannot read " + what, e);
        }
    }

    private void checkInside(String name, long offset, long size) {
        if (size > fileLength - offset) {
            throw new PelaException(shard + ": truncated tar shard: member " + name + " needs bytes " + offset
                    + ".." + (offset + size) + " but the file has " + fileLength);
        }
    }

    /** Names are never used as file paths here, but a name that escapes its directory marks a hostile archive. */
    private void checkName(String name) {
        if (name.isEmpty()) {
            throw new PelaException(shard + ": tar member with an empty name at byte " + (pos - BLOCK));
        }
        if (name.startsWith("/") || name.matches("^[A-Za-z]:[/\\\\].*")) {
            throw new PelaException(shard + ": tar member " + name + " has an absolute path");
        }
        for (String part : name.split("[/\\\\]")) {
            if (part.equals("..")) {
                throw new PelaException(shard + ": tar member " + name + " has a '..' path segment");
            }
        }
    }

    private String headerName() {
        String name = cString(header, 0, 100);
        // POSIX ustar keeps a path prefix at 345; old GNU tar ("ustar  ") uses those bytes for other fields.
        boolean posix = header[257] == 'u' && header[262] == 0 && new String(header, 257, 5, StandardCharsets.US_ASCII)
                .equals("ustar");
        String prefix = posix ? cString(header, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private void verifyChecksum() {
        long stored = octal(148, 8); // a garbled field (-1) is a bad checksum, most likely not a tar at all
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new PelaException(shard + ": not a tar file or corrupt: bad header checksum at byte " + pos);
        }
    }

    /** An octal field (NUL/space terminated), or GNU's base-256 form for large values. */
    private long number(int off, int len, String field, String member) {
        long v = (header[off] & 0x80) != 0 ? base256(off, len) : octal(off, len);
        if (v < 0) {
            throw new PelaException(shard + ": corrupt tar header: bad " + field + " field of member " + member);
        }
        return v;
    }

    /** The value of an octal field, or -1 if it holds anything but octal digits between spaces and NULs. */
    private long octal(int off, int len) {
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (header[i] == ' ' || header[i] == 0)) {
            i++;
        }
        for (; i < end && header[i] != ' ' && header[i] != 0; i++) {
            int d = header[i] - '0';
            if (d < 0 || d > 7) {
                return -1;
            }
            v = v * 8 + d;
        }
        return v;
    }

    /** GNU's base-256 number: 0x80, then big-endian bytes; -1 if negative or over 63 bits. */
    private long base256(int off, int len) {
        if (header[off] != (byte) 0x80) {
            return -1;
        }
        long v = 0;
        for (int i = off + 1; i < off + len; i++) {
            if (v >>> 55 != 0) {
                return -1;
            }
            v = (v << 8) | (header[i] & 0xff);
        }
        return v;
    }

    private static long roundUp(long size) {
        return (size + BLOCK - 1) / BLOCK * BLOCK;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String cString(byte[] b) {
        return cString(b, 0, b.length);
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new UncheckedIOException(shard + ": cannot close", e);
        }
    }
}
