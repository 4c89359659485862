package ai.pela.spark.config;

import java.util.List;

/**
 * {@code pela.model}: the model's config.json and weights, and the ViT family's compression.
 *
 * @param omit Linears whose names contain any of these stay dense (ViT family; ALBEF has {@link AlbefSettings#omit})
 */
public record ModelSettings(String config, String weights, double kappa, List<String> omit) {
    public ModelSettings {
        omit = List.copyOf(omit);
    }

    public static ModelSettings from(Recipe r) {
        return new ModelSettings(r.string("model.config"), r.string("model.weights"), r.number("model.kappa"),
                r.strings("model.omit"));
    }
}
