package ai.pela.zoo.swin;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Swin architectures by timm's names, with timm's defaults (patch 4, MLP ratio 4, qkv bias, ImageNet-1k head). */
public final class SwinPresets {
    private static final Map<String, SwinConfig> PRESETS = new LinkedHashMap<>();

    static {
        add(swin("swin_tiny_patch4_window7_224", 224, 7, 96, List.of(2, 2, 6, 2), List.of(3, 6, 12, 24)));
        add(swin("swin_small_patch4_window7_224", 224, 7, 96, List.of(2, 2, 18, 2), List.of(3, 6, 12, 24)));
        add(swin("swin_base_patch4_window7_224", 224, 7, 128, List.of(2, 2, 18, 2), List.of(4, 8, 16, 32)));
        add(swin("swin_base_patch4_window12_384", 384, 12, 128, List.of(2, 2, 18, 2), List.of(4, 8, 16, 32)));
    }

    private SwinPresets() {
    }

    private static SwinConfig swin(String name, int img, int window, int dim, List<Integer> depths, List<Integer> heads) {
        return new SwinConfig(name, img, 4, 3, dim, depths, heads, window, 4.0, 1000, true, ModelConfig.IMAGENET_MEAN,
                ModelConfig.IMAGENET_STD, null);
    }

    private static void add(SwinConfig c) {
        PRESETS.put(c.architecture(), c.validate(c.architecture()));
    }

    public static boolean exists(String name) {
        return PRESETS.containsKey(name);
    }

    public static SwinConfig get(String name) {
        SwinConfig c = PRESETS.get(name);
        if (c == null) {
            throw new PelaException("unknown Swin preset '" + name + "'; known: " + String.join(", ", PRESETS.keySet()));
        }
        return c;
    }

    public static Iterable<String> names() {
        return PRESETS.keySet();
    }
}
