package ai.pela.spark.io;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.hdfs.DistributedFileSystem;

/**
 * Every path the jobs touch goes through Hadoop's FileSystem, so {@code file://}, {@code hdfs://} and
 * {@code s3a://} work alike. A path without a scheme is a local file. Errors name the path.
 */
public final class Storage {
    private final Configuration conf;

    public Storage(Configuration conf) {
        this.conf = conf;
    }

    public static Storage local() {
        return new Storage(new Configuration());
    }

    public Configuration conf() {
        return conf;
    }

    /** A Hadoop path; a path without a scheme is made an absolute {@code file:} path. */
    public static Path path(String location) {
        URI uri = URI.create(location.replace(" ", "%20"));
        if (uri.getScheme() == null) {
            return new Path(new java.io.File(location).getAbsoluteFile().toURI());
        }
        return new Path(location);
    }

    public FileSystem fs(Path p) {
        try {
            return p.getFileSystem(conf);
        } catch (IOException e) {
            throw new PelaException(p + ": no file system for this path: " + e.getMessage(), e);
        }
    }

    public boolean exists(Path p) {
        try {
            return fs(p).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + p, e);
        }
    }

    public boolean isDirectory(Path p) {
        try {
            return fs(p).getFileStatus(p).isDirectory();
        } catch (java.io.FileNotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + p, e);
        }
    }

    public long length(Path p) {
        try {
            return fs(p).getFileStatus(p).getLen();
        } catch (java.io.FileNotFoundException e) {
            throw new PelaException(p + ": file does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + p, e);
        }
    }

    /** The entries of a directory, sorted by name (so listings are deterministic). */
    public List<FileStatus> list(Path dir) {
        try {
            FileStatus[] st = fs(dir).listStatus(dir);
            List<FileStatus> out = new ArrayList<>(List.of(st));
            out.sort((a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
            return out;
        } catch (java.io.FileNotFoundException e) {
            throw new PelaException(dir + ": directory does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    public FSDataInputStream open(Path p) {
        try {
            return fs(p).open(p);
        } catch (java.io.FileNotFoundException e) {
            throw new PelaException(p + ": file does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + p, e);
        }
    }

    public byte[] readAll(Path p, long maxBytes) {
        long len = length(p);
        if (len > maxBytes) {
            throw new PelaException(p + ": file of " + len + " bytes exceeds the limit of " + maxBytes);
        }
        try (InputStream in = open(p)) {
            return in.readNBytes((int) len);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    public void mkdirs(Path p) {
        try {
            fs(p).mkdirs(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directory " + p, e);
        }
    }

    public void delete(Path p, boolean recursive) {
        try {
            fs(p).delete(p, recursive);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p, e);
        }
    }

    /** Something that writes a file's bytes. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} atomically: into a temporary name beside it, then a rename, so a reader never sees
     * a partial file. On HDFS the rename replaces an existing target in one NameNode operation (readers see the
     * old file or the new one, never none); elsewhere the old file is deleted first; on object stores (s3a) the
     * rename is a copy, which is why checkpoints are also validated by a checksum when read back.
     */
    public void writeAtomically(Path target, Writer writer) {
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp-" + java.util.UUID.randomUUID());
        FileSystem fs = fs(target);
        try {
            try (FSDataOutputStream out = fs.create(tmp, true)) {
                writer.write(out);
            }
            if (fs instanceof DistributedFileSystem dfs) {
                dfs.rename(tmp, target, Options.Rename.OVERWRITE);
            } else {
                if (fs.exists(target) && !fs.delete(target, true)) {
                    throw new IOException("cannot replace " + target);
                }
                if (!fs.rename(tmp, target)) {
                    throw new IOException("rename " + tmp + " -> " + target + " failed");
                }
            }
        } catch (IOException e) {
            try {
                fs.delete(tmp, true);
            } catch (IOException ignored) {
                // best effort: the temporary name is never taken for the real file
            }
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Renames a finished directory into place (used for checkpoints written as a temporary directory). The target
     * must not exist: on HDFS, Hadoop's {@code FileSystem.rename} onto an existing directory moves the source INTO
     * it and reports success, which would bury a checkpoint one level down (other stores differ again). On HDFS the
     * check and the rename are one NameNode operation.
     */
    public void rename(Path from, Path to) {
        FileSystem fs = fs(from);
        try {
            if (fs instanceof DistributedFileSystem dfs) {
                dfs.rename(from, to, Options.Rename.NONE);
                return;
            }
            if (fs.exists(to)) {
                throw new FileAlreadyExistsException(to + " already exists");
            }
            if (!fs.rename(from, to)) {
                throw new IOException("rename returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }
}
