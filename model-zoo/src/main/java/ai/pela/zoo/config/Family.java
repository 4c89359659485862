package ai.pela.zoo.config;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.albef.AlbefPresets;
import ai.pela.zoo.swin.SwinConfigJson;
import ai.pela.zoo.swin.SwinPresets;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * The one place that says which model family a {@code config.json} (or a preset name) belongs to; every command asks
 * here before it picks the family's reader. ALBEF is recognised by a {@code bert_config} or an ALBEF preset, Swin by
 * {@code depths} + {@code window_size} or a Swin preset; anything else is read as a ViT, whose reader then names
 * what is wrong with it.
 */
public enum Family {
    VIT, SWIN, ALBEF;

    public static Family of(ObjectNode root) {
        if (AlbefConfigJson.isAlbef(root)) {
            return ALBEF;
        }
        return SwinConfigJson.isSwin(root) ? SWIN : VIT;
    }

    public static Family of(Path configFile) {
        return of(ConfigJson.readObject(configFile));
    }

    public static Family of(InputStream in, String source) {
        return of(ConfigJson.readObject(in, source));
    }

    /** The family of a preset name; unknown names fail listing every family's presets. */
    public static Family ofPreset(String name) {
        if (AlbefPresets.exists(name)) {
            return ALBEF;
        }
        if (SwinPresets.exists(name)) {
            return SWIN;
        }
        if (Presets.exists(name)) {
            return VIT;
        }
        throw new PelaException("unknown preset '" + name + "'; known presets: " + String.join(", ",
                String.join(", ", Presets.names()), String.join(", ", SwinPresets.names()),
                String.join(", ", AlbefPresets.names())));
    }
}
