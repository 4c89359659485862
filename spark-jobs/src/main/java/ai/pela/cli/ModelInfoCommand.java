package ai.pela.cli;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.albef.AlbefInfo;
import ai.pela.zoo.albef.AlbefLowRank;
import ai.pela.zoo.albef.AlbefPresets;
import ai.pela.zoo.albef.BertConfig;
import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitLayout;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pela model-info}: parameters and GFLOPs per layer and in total, teacher vs PELA student. */
@Command(name = "model-info", mixinStandardHelpOptions = true,
        description = "Parameters and GFLOPs (2 x multiply-adds at batch 1) per layer and in total; "
                + "with --kappa (or --rank-policy budget --param-budget S --weights W) also the PELA student's, "
                + "rank by rank.")
final class ModelInfoCommand implements Callable<Integer> {
    @Option(names = "--preset", description = "A preset name, e.g. deit_base_patch16_224, "
            + "swin_base_patch4_window7_224 or albef_base.")
    String preset;

    @Option(names = "--config", description = "A config.json (timm hub form or explicit fields).")
    Path config;

    @Mixin
    SurgeryOptions surgery;

    @Option(names = "--weights", description = "The teacher's checkpoint: the budget rank policy reads its spectra, "
            + "activation-aware SVD its activations.")
    Path weights;

    @Option(names = "--text-tokens", description = "ALBEF only: caption length the FLOPs are counted for "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "" + AlbefInfo.DEFAULT_TEXT_TOKENS)
    int textTokens;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Mixin
    CommonOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        switch (ModelLoading.family(preset, config)) {
            case ALBEF -> {
                return albef();
            }
            case SWIN -> {
                return swin();
            }
            default -> {
                return vit();
            }
        }
    }

    private int vit() throws Exception {
        ModelConfig teacherConfig = ModelLoading.config(preset, config);
        ModelInfo.Summary teacher = ModelInfo.of(teacherConfig);
        ModelInfo.Summary student = null;
        if (surgery.givesStudent()) {
            ModelConfig sc = teacherConfig.lowrank() != null ? teacherConfig : teacherConfig.withLowRank(plan(teacherConfig));
            student = ModelInfo.of(sc);
        }
        ModelConfig c = teacherConfig;
        print(String.format("%s: img %d, patch %d, dim %d, depth %d, heads %d, mlp %d, %d classes", c.architecture(),
                c.imgSize(), c.patchSize(), c.embedDim(), c.depth(), c.numHeads(), c.mlpHiddenDim(), c.numClasses()),
                teacher, student);
        return 0;
    }

    /** The ViT student's ranks under the chosen policy (the ViT omit rules). */
    private LowRankSpec plan(ModelConfig teacherConfig) {
        return plan(VitLayout.linears(teacherConfig), LowRank.VIT_OMIT, w -> ModelLoading.weights(teacherConfig, w),
                w -> surgery.inputScales(teacherConfig, w));
    }

    /** The Swin student's ranks under the chosen policy (PELA's Swin omit rules). */
    private LowRankSpec plan(SwinConfig teacherConfig) {
        return plan(SwinLayout.linears(teacherConfig), LowRank.SWIN_OMIT,
                w -> ModelLoading.swinWeights(teacherConfig, w), w -> surgery.inputScales(teacherConfig, w));
    }

    /** A budget or activation-aware SVD reads the teacher's weights ({@code load} reads --weights). */
    private LowRankSpec plan(List<LinearSpec> linears, List<String> omit, Function<Path, StateDict> load,
            Function<StateDict, Map<String, INDArray>> inputScales) {
        RankPolicy policy = surgery.policy();
        if (!surgery.needsWeights()) {
            return LowRank.plan(linears, null, policy, omit, Map.of());
        }
        if (weights == null) {
            throw new PelaException("--rank-policy budget and --svd-init activation-aware read the teacher: give --weights");
        }
        StateDict w = load.apply(weights);
        return LowRank.plan(linears, w, policy, omit, inputScales.apply(w));
    }

    /**
     * Swin: the same table and JSON, the window attention's matmuls after each block's attn.proj, PELA's Swin omit
     * rules for the student.
     */
    private int swin() throws Exception {
        SwinConfig c = ModelLoading.swinConfig(preset, config);
        ModelInfo.Summary teacher = ModelInfo.of(c);
        ModelInfo.Summary student = null;
        if (surgery.givesStudent()) {
            student = ModelInfo.of(c.lowrank() != null ? c : c.withLowRank(plan(c)));
        }
        print(String.format("%s: img %d, patch %d, window %d, dim %d, depths %s, heads %s, mlp ratio %s, %d classes",
                c.architecture(), c.imgSize(), c.patchSize(), c.windowSize(), c.embedDim(), c.depths(), c.numHeads(),
                c.mlpRatio(), c.numClasses()), teacher, student);
        return 0;
    }

    /** ALBEF: the same table and JSON, PELA's ALBEF omit rules (cls, _proj) for the student. */
    private int albef() throws Exception {
        if (textTokens < 1) {
            throw new PelaException("--text-tokens must be a positive integer, got " + textTokens);
        }
        AlbefConfig c = preset != null ? AlbefPresets.get(preset) : AlbefConfigJson.read(config);
        ModelInfo.Summary teacher = AlbefInfo.of(c, textTokens);
        ModelInfo.Summary student = null;
        if (surgery.givesStudent()) {
            if (surgery.needsWeights()) {
                throw new PelaException("model-info shows ALBEF students under --kappa only; the budget policy reads "
                        + "an ALBEF teacher's spectra in compress and pretrain");
            }
            double kappa = ((RankPolicy.Uniform) surgery.policy()).kappa();
            AlbefConfig sc = c.lowrank() != null ? c : c.withLowRank(AlbefLowRank.plan(c, kappa, LowRank.ALBEF_OMIT));
            student = AlbefInfo.of(sc, textTokens);
        }
        BertConfig b = c.text();
        print(String.format("%s: image %d, patch %d, vision dim %d x %d blocks; BERT hidden %d, %d text + %d fusion "
                        + "layers, vocab %d; embed %d; FLOPs for %d caption tokens", c.architecture(), c.vision().imgSize(),
                c.vision().patchSize(), c.vision().embedDim(), c.vision().depth(), b.hiddenSize(), b.textLayers(),
                b.fusionLayers(), b.vocabSize(), c.embedDim(), textTokens), teacher, student);
        return 0;
    }

    private void print(String header, ModelInfo.Summary teacher, ModelInfo.Summary student) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(teacher, student));
        } else {
            printTable(out, header, teacher, student);
        }
        out.flush();
    }

    static String toJson(ModelInfo.Summary teacher, ModelInfo.Summary student) throws Exception {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = m.createObjectNode();
        totals(root.putObject("teacher"), teacher);
        if (student != null) {
            totals(root.putObject("student"), student);
        }
        ArrayNode layers = root.putArray("layers");
        List<ModelInfo.Layer> sl = student == null ? null : student.layers();
        for (int i = 0; i < teacher.layers().size(); i++) {
            ModelInfo.Layer t = teacher.layers().get(i);
            ObjectNode l = layers.addObject();
            l.put("name", t.name());
            l.put("kind", t.kind());
            l.put("teacher_params", t.params());
            l.put("teacher_gflops", t.gflops());
            if (sl != null) {
                ModelInfo.Layer s = sl.get(i);
                l.put("student_kind", s.kind());
                l.put("student_params", s.params());
                l.put("student_gflops", s.gflops());
                if (s.rank() > 0) {
                    l.put("rank", s.rank());
                }
            }
        }
        return m.writeValueAsString(root);
    }

    private static void totals(ObjectNode n, ModelInfo.Summary s) {
        n.put("params", s.params());
        n.put("gflops", s.gflops());
        n.put("gflops_linear", s.gflopsLinear());
    }

    private static void printTable(PrintWriter out, String header, ModelInfo.Summary t, ModelInfo.Summary s) {
        out.println(header);
        int width = Math.max(24, t.layers().stream().mapToInt(l -> l.name().length()).max().orElse(0));
        String fmt = "%-" + width + "s %-9s %14s %9s";
        out.printf(fmt, "layer", "kind", "params", "GFLOPs");
        out.println(s == null ? "" : String.format(" %6s %14s %9s", "rank", "student params", "GFLOPs"));
        Map<String, ModelInfo.Layer> byName = new HashMap<>();
        if (s != null) {
            s.layers().forEach(l -> byName.put(l.name(), l));
        }
        for (ModelInfo.Layer l : t.layers()) {
            out.printf(fmt, l.name(), l.kind(), String.format("%,d", l.params()), String.format("%.4f", l.gflops()));
            ModelInfo.Layer sl = byName.get(l.name());
            out.println(sl == null ? "" : String.format(" %6s %14s %9s", sl.rank() > 0 ? sl.rank() : "-",
                    String.format("%,d", sl.params()), String.format("%.4f", sl.gflops())));
        }
        out.printf(fmt, "total (all tensors)", "", String.format("%,d", t.params()), String.format("%.3f", t.gflops()));
        out.println(s == null ? "" : String.format(" %6s %14s %9s", "", String.format("%,d", s.params()),
                String.format("%.3f", s.gflops())));
        out.printf("%nteacher: %.2f M params, %.2f GFLOPs (%.2f without attention matmuls)%n", t.params() / 1e6,
                t.gflops(), t.gflopsLinear());
        if (s != null) {
            out.printf("student: %.2f M params, %.2f GFLOPs (%.2f without attention matmuls); params x%.2f smaller, "
                            + "FLOPs x%.2f fewer%n", s.params() / 1e6, s.gflops(), s.gflopsLinear(),
                    (double) t.params() / s.params(), t.gflops() / s.gflops());
        }
    }
}
