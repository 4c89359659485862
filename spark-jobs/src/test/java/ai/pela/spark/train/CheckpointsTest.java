package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.io.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    private static TrainState state(int round) {
        float[] p = {round, 1.5f, -2f};
        return new TrainState(p, new float[] {0.1f, 0.2f, 0.3f}, new float[] {1, 2, 3}, 4L * round, round);
    }

    @Test
    void roundTripAndKeepsTheLastK(@TempDir Path dir) {
        Checkpoints c = new Checkpoints(Storage.local(), Storage.path(dir.toString()), 2);
        for (int r = 1; r <= 4; r++) {
            c.write(state(r));
        }
        TrainState s = c.latest().orElseThrow();
        assertThat(s.roundsDone()).isEqualTo(4);
        assertThat(s.step()).isEqualTo(16);
        assertThat(s.params()).containsExactly(4f, 1.5f, -2f);
        assertThat(s.v()).containsExactly(1f, 2f, 3f);
        assertThat(c.complete()).hasSize(2);
    }

    @Test
    void aPartialOrDamagedCheckpointIsNeverTaken(@TempDir Path dir) throws Exception {
        Checkpoints c = new Checkpoints(Storage.local(), Storage.path(dir.toString()), 5);
        c.write(state(1));
        c.write(state(2));
        // A writer killed mid-way leaves only a hidden temporary directory.
        Path tmp = Files.createDirectories(dir.resolve("checkpoints/.round-00000003.tmp-x"));
        Files.write(tmp.resolve("params.safetensors"), new byte[] {1, 2, 3});
        // On a store without atomic rename a damaged file can appear under the real name: the checksum catches it.
        Path last = dir.resolve("checkpoints/round-00000002/params.safetensors");
        byte[] bytes = Files.readAllBytes(last);
        bytes[bytes.length - 1] ^= 1;
        Files.write(last, bytes);
        assertThat(c.latest().orElseThrow().roundsDone()).isEqualTo(1);
    }

    @Test
    void noCheckpointsMeansAFreshRun(@TempDir Path dir) {
        assertThat(new Checkpoints(Storage.local(), Storage.path(dir.toString()), 3).latest()).isEmpty();
    }
}
