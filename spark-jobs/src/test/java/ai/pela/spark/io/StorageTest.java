package ai.pela.spark.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Storage on the local file system; it-tests' HdfsIT runs the same checks on a real HDFS. */
class StorageTest {
    private final Storage storage = Storage.local();

    @Test
    void renameOntoAnExistingDirectoryFailsInsteadOfMovingIntoIt(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("a"));
        Files.writeString(dir.resolve("a/x"), "x");
        Files.createDirectories(dir.resolve("b"));
        org.apache.hadoop.fs.Path a = Storage.path(dir.resolve("a").toString());
        org.apache.hadoop.fs.Path b = Storage.path(dir.resolve("b").toString());
        // Hadoop's FileSystem.rename would report success having made b/a/x.
        assertThatThrownBy(() -> storage.rename(a, b)).hasMessageContaining("already exists").hasMessageContaining(b.toString());
        assertThat(dir.resolve("b/a")).doesNotExist();
        assertThat(dir.resolve("a/x")).exists();

        org.apache.hadoop.fs.Path c = Storage.path(dir.resolve("c").toString());
        storage.rename(a, c);
        assertThat(dir.resolve("c/x")).hasContent("x");
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void writeAtomicallyReplacesAFileAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        org.apache.hadoop.fs.Path f = Storage.path(dir.resolve("f.txt").toString());
        storage.writeAtomically(f, out -> out.write("old".getBytes(StandardCharsets.UTF_8)));
        storage.writeAtomically(f, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertThat(new String(storage.readAll(f, 100), StandardCharsets.UTF_8)).isEqualTo("new");
        try (var files = Files.list(dir)) {
            // LocalFileSystem keeps a .f.txt.crc checksum beside the file; no .f.txt.tmp-… is left.
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }

    @Test
    void aFailedWriteNamesTheFileAndTheCauseAndLeavesNothing(@TempDir Path dir) throws Exception {
        org.apache.hadoop.fs.Path f = Storage.path(dir.resolve("f.txt").toString());
        // On HDFS the cause is e.g. "Failed to replace a bad datanode on the existing pipeline …".
        assertThatThrownBy(() -> storage.writeAtomically(f, out -> {
            out.write(1);
            throw new java.io.IOException("no DataNode left");
        })).hasMessageContaining(f.toString()).hasMessageContaining("no DataNode left");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-") || n.equals("f.txt"));
        }
    }
}
