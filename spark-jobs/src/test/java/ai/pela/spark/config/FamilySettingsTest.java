package ai.pela.spark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.loss.FdPoints;
import ai.pela.zoo.lowrank.LowRank;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code model.omit = "family" | [..]} and {@code loss.fd-points}: parsed once, typed. */
class FamilySettingsTest {

    @Test
    void omitDefaultsToEachFamilysRuleAndAListOverridesIt() {
        ModelSettings dflt = ModelSettings.from(Recipe.load(null, List.of()));
        assertThat(dflt.explicitOmit()).isNull();
        assertThat(dflt.omit()).isEqualTo(LowRank.VIT_OMIT);
        assertThat(dflt.omitOr(LowRank.SWIN_OMIT)).isEqualTo(LowRank.SWIN_OMIT);

        ModelSettings given = ModelSettings.from(Recipe.load(null, List.of("model.omit=[norm, head]")));
        assertThat(given.omit()).containsExactly("norm", "head");
        assertThat(given.omitOr(LowRank.SWIN_OMIT)).containsExactly("norm", "head");
        assertThat(ModelSettings.from(Recipe.load(null, List.of("model.omit=[]"))).omitOr(LowRank.SWIN_OMIT)).isEmpty();
    }

    @Test
    void aWordOtherThanFamilyFailsNamingTheKey() {
        assertThatThrownBy(() -> ModelSettings.from(Recipe.load(null, List.of("model.omit=swin"))))
                .isInstanceOf(PelaException.class).hasMessageContaining("pela.model.omit")
                .hasMessageContaining("\"family\"").hasMessageContaining("swin");
    }

    @Test
    void fdPointsIsTypedWithBlocksByDefault() {
        assertThat(LossSettings.from(Recipe.load(null, List.of())).fdPoints()).isEqualTo(FdPoints.BLOCKS);
        assertThat(LossSettings.from(Recipe.load(null, List.of("loss.fd-points=final"))).fdPoints())
                .isEqualTo(FdPoints.FINAL);
        assertThatThrownBy(() -> LossSettings.from(Recipe.load(null, List.of("loss.fd-points=last"))))
                .hasMessageContaining("pela.loss.fd-points").hasMessageContaining("[blocks, final]");
    }

    @Test
    void theSwinRecipeParsesWithTheReleasedSettings() {
        Recipe r = Recipe.load(new java.io.File("../conf/swin-base-imagenet.conf"), List.of());
        RunConfig c = RunConfig.from(r);
        assertThat(c.loss().fdPoints()).isEqualTo(FdPoints.FINAL);
        assertThat(c.loss().alpha()).isEqualTo(1.0);
        assertThat(c.loss().beta()).isEqualTo(1.0);
        assertThat(c.loss().rwpEps()).isZero();
        assertThat(c.model().kappa()).isEqualTo(1.5);
        assertThat(c.model().explicitOmit()).isNull();
        TrainSettings t = c.train();
        assertThat(t.epochs()).isEqualTo(50);
        assertThat(t.warmupEpochs()).isEqualTo(3.0);
        assertThat(t.lr() * 512 / (t.workers() * t.batchSize())).isEqualTo(2.5e-5);
        assertThat(t.warmupLr()).isEqualTo(1e-7);
        assertThat(t.minLr()).isEqualTo(1e-8);
        assertThat(t.weightDecay()).isEqualTo(0.05);
        assertThat(t.clipGrad()).isEqualTo(5.0);
        assertThat(t.labelSmoothing()).isEqualTo(0.1);
    }
}
