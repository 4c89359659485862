package ai.pela.zoo.swin;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.vit.VitInit;

/**
 * A Swin's initialisation for training from scratch, as timm's ({@link VitInit#timm}): weights and relative position
 * bias tables from a normal with std 0.02 truncated at ±2 std, biases 0, LayerNorm weights 1 (the patch embedding's
 * conv takes the Linears' rule rather than PyTorch's default uniform). Seeded, so the same seed gives the same model.
 */
public final class SwinInit {
    private SwinInit() {
    }

    public static StateDict random(SwinConfig config, long seed) {
        return VitInit.timm(SwinLayout.parameterShapes(config), null, seed); // Swin has no LayerScale
    }
}
