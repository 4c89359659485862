package ai.pela.zoo.config;

import ai.pela.zoo.PelaException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Architectures by timm's names, with timm's defaults (ImageNet-1k head, token pooling, qkv bias). */
public final class Presets {
    private static final Map<String, ModelConfig> PRESETS = new LinkedHashMap<>();

    static {
        add(vit("deit_tiny_patch16_224", 192, 12, 3));
        add(vit("deit_small_patch16_224", 384, 12, 6));
        add(vit("deit_base_patch16_224", 768, 12, 12));
        // DeiT-III: LayerScale (init 1e-6) and a position embedding over patch tokens only.
        add(new ModelConfig("deit3_large_patch16_224", 224, 16, 3, 1024, 24, 16, 4.0, 1000, "token", true, true,
                1e-6, true, ModelConfig.IMAGENET_MEAN, ModelConfig.IMAGENET_STD, null));
    }

    private Presets() {
    }

    private static ModelConfig vit(String name, int dim, int depth, int heads) {
        return new ModelConfig(name, 224, 16, 3, dim, depth, heads, 4.0, 1000, "token", true, true, null, false,
                ModelConfig.IMAGENET_MEAN, ModelConfig.IMAGENET_STD, null);
    }

    private static void add(ModelConfig c) {
        PRESETS.put(c.architecture(), c);
    }

    public static boolean exists(String name) {
        return PRESETS.containsKey(name);
    }

    public static ModelConfig get(String name) {
        ModelConfig c = PRESETS.get(name);
        if (c == null) {
            throw new PelaException("unknown preset '" + name + "'; known presets: " + String.join(", ", PRESETS.keySet()));
        }
        return c;
    }

    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
