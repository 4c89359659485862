package ai.pela.spark.config;

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
    void aRecipeIsReadFromAHadoopLocationOrALocalPath(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.conf");
        Files.writeString(f, "pela { train { epochs = 5, batch-size = 32 } }");
        org.apache.hadoop.conf.Configuration storage = new org.apache.hadoop.conf.Configuration();
        Path odd = dir.resolve("my recipe [1] 100%.conf");
        Files.copy(f, odd);
        for (String location : List.of(f.toUri().toString(), f.toString(), odd.toString())) {
            Recipe r = Recipe.load(location, List.of("train.epochs=7"), storage);
            assertThat(r.integer("train.epochs")).as(location).isEqualTo(7);
            assertThat(r.integer("train.batch-size")).as(location).isEqualTo(32);
        }
        assertThat(Recipe.load((String) null, List.of("train.epochs=3"), storage).integer("train.epochs")).isEqualTo(3);
        assertThatThrownBy(() -> Recipe.load(dir.resolve("missing.conf").toUri().toString(), List.of(), storage))
                .isInstanceOf(PelaException.class).hasMessageContaining("missing.conf").hasMessageContaining("does not exist");
    }

    @Test
    void everyShippedRecipeLoads() {
        for (String name : List.of("deit-base-imagenet.conf", "deit3-large-imagenet.conf")) {
            File f = new File("../conf/" + name);
            Recipe r = Recipe.load(f, List.of());
            assertThat(r.number("model.kappa")).isEqualTo(2.0);
        }
        for (String name : List.of("albef-4m.conf", "albef-tiny.conf")) {
            Recipe r = Recipe.load(new File("../conf/" + name), List.of());
            assertThat(r.number("model.kappa")).isEqualTo(3.0);
            assertThat(r.number("loss.alpha")).isEqualTo(0.1);
            assertThat(r.string("data.format")).isEqualTo("albef-pretrain");
        }
        Recipe albef4m = Recipe.load(new File("../conf/albef-4m.conf"), List.of());
        assertThat(albef4m.number("train.lr")).isEqualTo(1e-4);
        assertThat(albef4m.number("train.min-lr")).isEqualTo(1e-5);
        assertThat(albef4m.number("train.weight-decay")).isEqualTo(0.02);
        assertThat(albef4m.integer("train.epochs")).isEqualTo(20);
        assertThat(albef4m.number("loss.rwp-eps")).isEqualTo(1e-3);
    }
}
