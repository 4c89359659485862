package ai.pela.spark.data;

import java.util.SplittableRandom;

/**
 * Which caption of a multi-caption sample is used in an epoch. ALBEF draws {@code random.choice(ann['caption'])}
 * afresh at every {@code __getitem__}; here the draw is a pure function of (run seed, epoch, sample index), so a
 * retried task, a resumed run and every executor agree on it, while each epoch still sees a fresh draw.
 */
public final class CaptionChoice {
    private CaptionChoice() {
    }

    /** The caption of {@code s} for {@code epoch}; its only caption when it has one. */
    public static String pick(Sample s, long seed, int epoch) {
        Sample.Captions c = s.captions();
        if (c == null) {
            throw new IllegalArgumentException(s.location() + ": not an image-text sample");
        }
        return c.texts().get(index(seed, epoch, c.index(), c.texts().size()));
    }

    /** An index in [0, n), uniform, from the run seed, the epoch and the sample's index in the listing. */
    public static int index(long seed, int epoch, int sampleIndex, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("no caption to choose from");
        }
        if (n == 1) {
            return 0;
        }
        long key = mix(seed ^ mix(((long) epoch << 32) ^ (sampleIndex & 0xFFFFFFFFL) ^ 0x5DEECE66DL));
        return new SplittableRandom(key).nextInt(n);
    }

    /** SplitMix64's finaliser, as in {@link EpochPlan}: neighbouring indices give unrelated keys. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
