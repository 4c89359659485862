package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.lowrank.RankPolicy;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * PELA's low-rank surgery on ALBEF through the shared {@link LowRank} machinery: every Linear whose name has none
 * of the omit strings (released: {@code cls}, {@code _proj}) and whose d_out ≥ 10 is decomposed. So the MLM head
 * and the contrastive projections stay dense, the ITM head (d_out 2) too, the embeddings are never touched (they
 * are lookups, not Linears), and cross-attention keys and values (768 image channels in) are decomposed.
 *
 * <p>The SVD is plain, or activation-aware (ASVD's W·S, as for the ViT family and Swin) with the input statistics
 * of {@link AlbefCalibration}: the image encoder's Linears observed on the ViT engine, the text, fusion and head
 * Linears in ALBEF's SameDiff graph.
 */
public final class AlbefLowRank {
    /** A compressed ALBEF: the student's config (with its lowrank block) and its checkpoint. */
    public record Student(AlbefConfig config, StateDict weights) {
    }

    private AlbefLowRank() {
    }

    public static LowRankSpec plan(AlbefConfig config, double kappa, List<String> omit) {
        // token counts only weigh FLOPs; the plan depends on names and shapes alone
        return LowRank.plan(AlbefLayout.linears(config, 1), kappa, omit);
    }

    public static Student compress(AlbefConfig teacherConfig, StateDict teacher, double kappa, List<String> omit) {
        return compress(teacherConfig, teacher, new RankPolicy.Uniform(kappa), omit);
    }

    /** Under a rank policy, plain SVD (a budget spreads the ranks by the plain spectra). */
    public static Student compress(AlbefConfig teacherConfig, StateDict teacher, RankPolicy policy, List<String> omit) {
        return compress(teacherConfig, teacher, policy, omit, Map.of());
    }

    /**
     * Under a rank policy, activation-aware when {@code inputScales} is not empty: the SVD of each decomposed
     * Linear is taken of W·S, S its input RMS per channel ({@link AlbefCalibration}), and a budget spreads the
     * ranks by those spectra. Then every decomposed Linear must have a scale of its d_in channels
     * ({@link LowRank#plan}): one left out would silently get plain SVD.
     *
     * @param inputScales each Linear's input RMS per channel by its full checkpoint name, or empty for plain SVD
     */
    public static Student compress(AlbefConfig teacherConfig, StateDict teacher, RankPolicy policy, List<String> omit,
            Map<String, INDArray> inputScales) {
        LowRank.Surgery s = LowRank.surgery(teacherConfig.lowrank(), AlbefLayout.linears(teacherConfig, 1), teacher,
                policy, omit, inputScales);
        return new Student(teacherConfig.withLowRank(s.spec()), s.weights());
    }
}
