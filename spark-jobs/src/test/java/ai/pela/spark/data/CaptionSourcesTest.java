package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionSourcesTest {
    @TempDir
    Path root;

    private final Storage storage = Storage.local();

    @Test
    void formatsParseByTheirRecipeNames() {
        assertThat(CaptionSources.Format.parse(" Karpathy ")).isEqualTo(CaptionSources.Format.KARPATHY);
        assertThat(CaptionSources.Format.parse("albef-pretrain")).isEqualTo(CaptionSources.Format.ALBEF_PRETRAIN);
        assertThatThrownBy(() -> CaptionSources.Format.parse("coco")).isInstanceOf(PelaException.class)
                .hasMessageContaining("'coco' is not one of: albef-pretrain, albef-retrieval, karpathy");
    }

    @Test
    void eachFormatListsThroughItsSource() {
        CaptionData.writePair(root, "a.jpg", 0, 1);
        Path pretrain = CaptionData.writeJson(root.resolve("p.json"),
                List.of(Map.of("image", "a.jpg", "caption", CaptionData.captions(0, 1))));
        Path karpathy = CaptionData.writeJson(root.resolve("k.json"), Map.of("images", List.of(Map.of(
                "filename", "a.jpg", "split", "test", "sentences", List.of(Map.of("raw", "x"), Map.of("raw", "y"))))));
        assertThat(CaptionSources.train(storage, CaptionSources.Format.ALBEF_PRETRAIN, List.of(pretrain.toString()), null))
                .singleElement().satisfies(s -> assertThat(s.captions().texts()).hasSize(3));
        assertThat(CaptionSources.eval(storage, CaptionSources.Format.KARPATHY, karpathy.toString(), null, "test").texts())
                .containsExactly("x", "y");
        assertThatThrownBy(() -> CaptionSources.eval(storage, CaptionSources.Format.ALBEF_PRETRAIN, pretrain.toString(),
                null, "test")).isInstanceOf(PelaException.class).hasMessageContaining("p.json").hasMessageContaining("no retrieval");
        assertThatThrownBy(() -> CaptionSources.train(storage, CaptionSources.Format.KARPATHY,
                List.of(karpathy.toString(), pretrain.toString()), null)).isInstanceOf(PelaException.class)
                .hasMessageContaining("takes one annotation file");
    }
}
