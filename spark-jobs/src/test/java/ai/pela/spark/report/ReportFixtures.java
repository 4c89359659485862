package ai.pela.spark.report;

import ai.pela.spark.train.RoundMetrics;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/** Inputs shaped like a demo run's: three models, 40 rounds of metrics, the demo's small ViT. */
final class ReportFixtures {
    private ReportFixtures() {
    }

    static List<ModelRow> rows() {
        return List.of(
                new ModelRow("teacher", 0.8712, 0.9961, 214_538, 0.0123, 5321.4),
                new ModelRow("naive_lowrank", 0.4305, 0.9012, 120_970, 0.0071, 7010.0),
                new ModelRow("pela", 0.8547, 0.9950, 120_970, 0.0071, 6987.9));
    }

    /** Table 7 on the rows above: the CE-only, L_fd-only and L_rwp-only students between naive and PELA. */
    static List<AblationRow> ablation() {
        List<ModelRow> r = rows();
        return List.of(new AblationRow("teacher", null, null, r.get(0)),
                new AblationRow("naive low-rank (SVD only)", null, null, r.get(1)),
                new AblationRow("naive + CE fine-tuning", false, false, student("ce", 0.7011)),
                new AblationRow("PELA, L_fd only (beta = 0)", true, false, student("fd", 0.8501)),
                new AblationRow("PELA, L_rwp only (alpha = 0)", false, true, student("rwp", 0.7433)),
                new AblationRow("PELA (L_fd + L_rwp)", true, true, r.get(2)));
    }

    /** A κ sweep at 2 (the rows above) and 4. */
    static List<SweepPoint> sweep() {
        List<ModelRow> r = rows();
        return List.of(new SweepPoint(2, r.get(1), r.get(2)),
                new SweepPoint(4, new ModelRow("naive_kappa_4", 0.671, 0.95, 63_210, 0.004, 9000),
                        new ModelRow("pela_kappa_4", 0.8102, 0.99, 63_210, 0.004, 9000)));
    }

    private static ModelRow student(String name, double top1) {
        return new ModelRow(name, top1, 0.99, 120_970, 0.0071, 6900);
    }

    /** Losses decaying over 40 rounds; the rwp term is small, so the chart needs a log axis to show it. */
    static List<RoundMetrics> rounds(boolean withRwp) {
        List<RoundMetrics> out = new ArrayList<>();
        for (int r = 1; r <= 40; r++) {
            double base = 2.3 * Math.exp(-r / 15.0) + 0.4;
            double fd = 0.8 * Math.exp(-r / 10.0) + 0.05;
            double rwp = withRwp ? 0.002 * Math.exp(-r / 20.0) : Double.NaN;
            double total = base + fd + (withRwp ? rwp : 0);
            out.add(new RoundMetrics(r, 0, r - 1, 512L * r, total, base, fd, rwp, 1e-3, 800, 0.1, 0.5, 0.1, 0.7, 0));
        }
        return out;
    }

    /** The demo's teacher architecture (conf/demo/vit-fmnist.json). */
    static ModelConfig demoVit() {
        return ConfigJson.parse("""
                {"img_size": 28, "patch_size": 7, "in_chans": 3, "embed_dim": 64, "depth": 4, "num_heads": 4,
                 "mlp_ratio": 2.0, "num_classes": 10, "global_pool": "token", "class_token": true, "qkv_bias": true}
                """, "test vit");
    }

    static ModelConfig withDepth(ModelConfig c, int depth) {
        return new ModelConfig(c.architecture(), c.imgSize(), c.patchSize(), c.inChans(), c.embedDim(), depth,
                c.numHeads(), c.mlpRatio(), c.numClasses(), c.globalPool(), c.classToken(), c.qkvBias(),
                c.initValues(), c.noEmbedClass(), c.mean(), c.std(), c.lowrank());
    }
}
