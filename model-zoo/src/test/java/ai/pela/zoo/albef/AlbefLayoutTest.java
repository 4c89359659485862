package ai.pela.zoo.albef;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * albef_base's checkpoint layout, PELA decomposition plan and counts against ALBEF's module structure built in
 * PyTorch (fixtures/albef/albef_base_layout.json: state-dict keys and shapes, and PELA's ModuleLowRank walk at κ=3).
 */
class AlbefLayoutTest {
    private static final AlbefConfig BASE = AlbefPresets.get("albef_base");
    private static JsonNode ref;

    @BeforeAll
    static void load() throws Exception {
        ref = new ObjectMapper().readTree(Fixtures.path("albef/albef_base_layout.json").toFile());
    }

    @Test
    void presetIsTheConfigPyTorchWasBuiltFrom() {
        assertThat(AlbefConfigJson.fromJson((com.fasterxml.jackson.databind.node.ObjectNode) ref.get("config"), "ref"))
                .isEqualTo(BASE);
    }

    @Test
    void parameterKeysAndShapesArePyTorchsStateDictInOrderWithoutTiedAliasesAndBuffers() {
        Map<String, List<Long>> expected = new LinkedHashMap<>();
        for (JsonNode e : ref.get("state_dict")) {
            String key = e.get(0).asText();
            if (!key.endsWith("position_ids") && !key.startsWith(AlbefLayout.PREDICTIONS + "decoder.")) {
                List<Long> shape = new ArrayList<>();
                e.get(1).forEach(d -> shape.add(d.asLong()));
                expected.put(key, shape);
            }
        }
        Map<String, List<Long>> actual = new LinkedHashMap<>();
        AlbefLayout.parameterShapes(BASE).forEach((k, v) -> actual.put(k, java.util.Arrays.stream(v).boxed().toList()));
        assertThat(actual).containsExactlyEntriesOf(expected);
    }

    @Test
    void parameterCountsOfTeacherAndKappa3StudentMatchPyTorch() {
        LowRankSpec plan = AlbefLowRank.plan(BASE, 3, LowRank.ALBEF_OMIT);
        long teacher = AlbefInfo.of(BASE, AlbefInfo.DEFAULT_TEXT_TOKENS).params();
        long student = AlbefInfo.of(BASE.withLowRank(plan), AlbefInfo.DEFAULT_TEXT_TOKENS).params();
        assertThat(teacher).isEqualTo(ref.get("parameters").asLong()).isEqualTo(209_891_645L);
        assertThat(student).isEqualTo(ref.get("lowrank").get("parameters").asLong()).isEqualTo(87_060_797L);
    }

    @Test
    void kappa3PlanIsPelasModuleLowRankWalk() {
        Map<String, Integer> expected = new LinkedHashMap<>();
        ref.get("lowrank").get("ranks").fields().forEachRemaining(e -> expected.put(e.getKey(), e.getValue().asInt()));
        LowRankSpec plan = AlbefLowRank.plan(BASE, 3, LowRank.ALBEF_OMIT);
        assertThat(plan.ranks()).containsExactlyInAnyOrderEntriesOf(expected);
    }

    @Test
    void kappa3PlanCompressesEncodersAndFusionButNotHeadsProjectionsOrEmbeddings() {
        Map<String, Integer> ranks = AlbefLowRank.plan(BASE, 3, LowRank.ALBEF_OMIT).ranks();
        // ViT: 12 × (qkv, proj, fc1, fc2); BERT: 12 × 6 Linears, plus 6 fusion layers × 4 cross-attention Linears
        assertThat(ranks).hasSize(48 + 72 + 24);
        assertThat(ranks.keySet().stream().filter(k -> k.startsWith(AlbefLayout.VISUAL))).hasSize(48);
        assertThat(ranks.keySet().stream().filter(k -> k.contains(".crossattention."))).hasSize(24);
        assertThat(ranks.keySet()).noneMatch(k -> k.contains("cls") || k.contains("_proj") || k.contains("embeddings")
                || k.equals(AlbefLayout.ITM_HEAD) || k.contains("patch_embed"));
        assertThat(ranks).containsEntry("visual_encoder.blocks.0.attn.qkv", 192)          // 768 → 2304
                .containsEntry("visual_encoder.blocks.11.mlp.fc2", 204)                   // 3072 → 768
                .containsEntry("text_encoder.bert.encoder.layer.0.attention.self.query", 128)
                .containsEntry("text_encoder.bert.encoder.layer.6.crossattention.self.key", 128)
                .containsEntry("text_encoder.bert.encoder.layer.11.intermediate.dense", 204);
        assertThat(ranks).doesNotContainKeys("text_encoder.bert.encoder.layer.5.crossattention.self.key");
    }

    @Test
    void modelInfoCountsEveryMatmulOnce() {
        ModelInfo.Summary s = AlbefInfo.of(BASE, 30);
        long attention = s.layers().stream().filter(l -> l.kind().equals("attention")).count();
        assertThat(attention).isEqualTo(12 + 12 + 6);   // ViT blocks, BERT self-attention, fusion cross-attention
        ModelInfo.Layer decoder = s.layers().stream().filter(l -> l.name().endsWith("predictions.decoder")).findFirst()
                .orElseThrow();
        assertThat(decoder.params()).isZero();
        assertThat(decoder.macs()).isEqualTo(30L * 768 * 30522);
        ModelInfo.Layer cross = s.layers().stream()
                .filter(l -> l.name().equals("text_encoder.bert.encoder.layer.6.crossattention.matmul")).findFirst()
                .orElseThrow();
        assertThat(cross.macs()).isEqualTo(2L * 30 * 197 * 768);
        assertThat(s.gflops()).isGreaterThan(s.gflopsLinear());
    }
}
