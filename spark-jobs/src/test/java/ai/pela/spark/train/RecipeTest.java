package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.loss.FdForm;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeTest {
    @Test
    void recipeOverridesDefaultsAndSetOverridesRecipe(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.conf");
        Files.writeString(f, "pela { train { epochs = 5, batch-size = 32 }, loss.fd-form = paper }");
        Recipe r = Recipe.load(f.toFile(), List.of("train.epochs=7", "pela.model.omit=[norm, head]"));
        assertThat(r.integer("train.epochs")).isEqualTo(7);
        assertThat(r.integer("train.batch-size")).isEqualTo(32);
        assertThat(r.integer("train.local-steps")).isEqualTo(4);
        assertThat(r.strings("model.omit")).containsExactly("norm", "head");
        assertThat(r.fdForm()).isEqualTo(FdForm.PAPER);
        assertThat(r.render()).contains("epochs").contains("7");
    }

    @Test
    void unknownKeysAreErrorsNamingThem(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("typo.conf");
        Files.writeString(f, "pela.train.epoch = 5");
        assertThatThrownBy(() -> Recipe.load(f.toFile(), List.of())).isInstanceOf(PelaException.class)
                .hasMessageContaining("typo.conf").hasMessageContaining("unknown configuration key")
                .hasMessageContaining("pela.train.epoch");
        assertThatThrownBy(() -> Recipe.load(null, List.of("train.lr-max=1"))).hasMessageContaining("pela.train.lr-max");
        assertThatThrownBy(() -> Recipe.load(null, List.of("novalue"))).hasMessageContaining("expected key=value");
    }

    @Test
    void badValuesNameTheKey() {
        assertThatThrownBy(() -> Recipe.load(null, List.of("train.epochs=many")).integer("train.epochs"))
                .isInstanceOf(PelaException.class).hasMessageContaining("pela.train.epochs");
        assertThatThrownBy(() -> Recipe.load(null, List.of("loss.fd-form=cosine")).fdForm())
                .hasMessageContaining("pela.loss.fd-form").hasMessageContaining("[code, paper]");
        assertThatThrownBy(() -> Recipe.load(null, List.of("train.workers=0")).positive("train.workers"))
                .hasMessageContaining(">= 1");
        assertThatThrownBy(() -> Recipe.load(new File("/nonexistent.conf"), List.of()))
                .hasMessageContaining("/nonexistent.conf").hasMessageContaining("does not exist");
    }

    @Test
    void everyShippedRecipeLoads() {
        for (String name : List.of("deit-base-imagenet.conf", "deit3-large-imagenet.conf")) {
            File f = new File("../conf/" + name);
            Recipe r = Recipe.load(f, List.of());
            assertThat(r.number("model.kappa")).isEqualTo(2.0);
        }
    }
}
