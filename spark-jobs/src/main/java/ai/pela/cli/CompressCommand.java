package ai.pela.cli;

import ai.pela.spark.config.Recipe;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.Family;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinLowRank;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pela compress}: PELA's low-rank surgery of a dense checkpoint into a student checkpoint. */
@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Replace every eligible Linear by two thin ones from a truncated SVD (PELA's surgery); "
                + "writes DIR/model.safetensors and DIR/config.json (with its lowrank block and per-Linear ranks). "
                + "Ranks: --kappa (uniform) or --rank-policy budget --param-budget S; factors: plain or "
                + "--svd-init activation-aware --calibration DIR.")
final class CompressCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The teacher's config.json.")
    Path config;

    @Option(names = "--weights", required = true, description = "The teacher's checkpoint (.safetensors).")
    Path weights;

    @Mixin
    SurgeryOptions surgery;

    @Option(names = "--omit", split = ",", description = "Linears whose names contain any of these are kept dense "
            + "(default: the family's rule; ViT: norm,head,patch_embed,downsample; Swin: those and attn.proj).")
    List<String> omit;

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Mixin
    CommonOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RankPolicy policy = surgery.policy();
        if (ModelLoading.family(null, config) == Family.SWIN) {
            return swin(policy);
        }
        ModelConfig teacherConfig = ConfigJson.read(config);
        StateDict teacher = ModelLoading.weights(teacherConfig, weights);
        long start = System.nanoTime();
        LowRank.Student student = LowRank.compress(teacherConfig, teacher, policy, omit != null ? omit : LowRank.VIT_OMIT,
                surgery.inputScales(teacherConfig, teacher));
        outDir();
        Safetensors.write(student.weights(), out.resolve("model.safetensors"));
        ConfigJson.write(student.config(), out.resolve("config.json"));
        report(student.config().lowrank().ranks().size(), student.config().lowrank().kappa(), start,
                ModelInfo.of(teacherConfig), ModelInfo.of(student.config()));
        return 0;
    }

    /** A Swin teacher in the official or timm's layout; the student is written in the official layout. */
    private int swin(RankPolicy policy) throws Exception {
        SwinConfig teacherConfig = SwinConfigJson.read(config);
        StateDict teacher = ModelLoading.swinWeights(teacherConfig, weights);
        long start = System.nanoTime();
        SwinLowRank.Student student = SwinLowRank.compress(teacherConfig, teacher, policy,
                omit != null ? omit : LowRank.SWIN_OMIT, surgery.inputScales(teacherConfig, teacher));
        outDir();
        Safetensors.write(student.weights(), out.resolve("model.safetensors"));
        SwinConfigJson.write(student.config(), out.resolve("config.json"));
        report(student.config().lowrank().ranks().size(), student.config().lowrank().kappa(), start,
                ModelInfo.of(teacherConfig), ModelInfo.of(student.config()));
        return 0;
    }

    private void outDir() throws java.io.IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new PelaException(out + ": output exists and is not a directory");
        }
        Files.createDirectories(out);
    }

    private void report(int decomposed, double kappa, long start, ModelInfo.Summary t, ModelInfo.Summary s) {
        PrintWriter pw = spec.commandLine().getOut();
        pw.printf("compressed %d Linears (%s ranks, %s SVD) at kappa %.3f in %.1f s: %,d -> %,d params, %.3f -> %.3f "
                + "GFLOPs%n", decomposed, Recipe.spelled(surgery.rankPolicy), Recipe.spelled(surgery.svdInit), kappa,
                (System.nanoTime() - start) / 1e9,
                t.params(), s.params(), t.gflops(), s.gflops());
        pw.printf("wrote %s and %s%n", out.resolve("model.safetensors"), out.resolve("config.json"));
        pw.flush();
    }
}
