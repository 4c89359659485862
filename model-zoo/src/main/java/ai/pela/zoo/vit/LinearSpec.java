package ai.pela.zoo.vit;

/**
 * A dense Linear (or patch-embedding conv, which is a Linear over flattened patches) of a model, as PELA's
 * surgery sees it: weight {@code name.weight} of shape [dOut, dIn] and optional bias {@code name.bias}.
 * {@code conv} marks the patch embedding: PELA decomposes only true Linears, never a convolution.
 */
public record LinearSpec(String name, int dIn, int dOut, boolean hasBias, int tokens, boolean conv) {
    /** Multiply-adds of this Linear at batch 1: every token goes through it once. */
    public long macs() {
        return (long) tokens * dIn * dOut;
    }

    public long macsLowRank(int rank) {
        return (long) tokens * rank * (dIn + dOut);
    }
}
