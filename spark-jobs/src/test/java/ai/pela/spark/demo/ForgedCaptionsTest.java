package ai.pela.spark.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.data.CaptionSources;
import ai.pela.spark.data.RetrievalEvalSet;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The caption forge: captions say where the items really are, and the files read back through the real loaders. */
class ForgedCaptionsTest {
    @TempDir
    Path dir;

    private static SceneForge.Placed at(int cls, int x, int y) {
        return new SceneForge.Placed(cls, x, y, 28, 28, 28 * 28, new boolean[0]);
    }

    @Test
    void captionsNameBothItemsAndTheirRelativePositionBothWaysRound() {
        assertThat(ForgedCaptions.captions(List.of(at(7, 0, 10), at(6, 28, 0))))
                .containsExactly("a sneaker to the left of a shirt", "a shirt to the right of a sneaker");
        assertThat(ForgedCaptions.captions(List.of(at(9, 28, 0), at(1, 0, 4))))
                .containsExactly("an ankle boot to the right of a pair of trousers",
                        "a pair of trousers to the left of an ankle boot");
        assertThat(ForgedCaptions.captions(List.of(at(8, 2, 28), at(3, 0, 0))))
                .containsExactly("a bag below a dress", "a dress above a bag");
        assertThat(ForgedCaptions.captions(List.of(at(4, 0, 0)))).containsExactly("a coat", "a photo of a coat");
    }

    @Test
    void writesAlbefPretrainingAndRetrievalFilesTheLoadersRead() throws Exception {
        ForgedCaptions.Summary s = ForgedFixtures.captions(dir.resolve("caps"), 5, 12, 4, 56);
        Storage storage = new Storage(new Configuration());
        List<Sample> train = CaptionSources.train(storage, CaptionSources.Format.ALBEF_PRETRAIN,
                List.of(s.pretrainJson().toString()), "");
        assertThat(train).hasSize(12);
        assertThat(train).filteredOn(t -> t.captions().texts().get(0).matches(".* (of|above|below) .*"))
                .as("most scenes relate two items").hasSizeGreaterThanOrEqualTo(6);
        for (Sample t : train) {
            assertThat(t.captions().texts()).isNotEmpty().allMatch(c -> c.startsWith("a ") || c.startsWith("an "));
            try (var in = storage.open(Storage.path(t.uri()))) {
                assertThat(ImageIO.read(in).getWidth()).isEqualTo(56);
            }
        }
        RetrievalEvalSet val = CaptionSources.eval(storage, CaptionSources.Format.ALBEF_RETRIEVAL,
                s.retrievalVal().toString(), "", "test");
        assertThat(val.images()).hasSize(4);

        byte[] before = Files.readAllBytes(s.pretrainJson());
        assertThat(ForgedFixtures.captions(dir.resolve("caps"), 5, 12, 4, 56).reused()).isTrue();
        assertThat(Files.readAllBytes(s.pretrainJson())).isEqualTo(before);
        Files.createDirectories(dir.resolve("other"));
        Files.writeString(dir.resolve("other/x.txt"), "mine");
        assertThatThrownBy(() -> ForgedFixtures.captions(dir.resolve("other"), 5, 12, 4, 56))
                .isInstanceOf(PelaException.class).hasMessageContaining("non-empty directory");
    }
}
