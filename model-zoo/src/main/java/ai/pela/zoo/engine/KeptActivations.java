package ai.pela.zoo.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * An inference model's engine buffers by batch size, made on first use; only the most recently used sizes are kept
 * (a job's batch and its last, smaller one), so a long evaluation does not hold one set per size it ever saw.
 *
 * @param <A> the engine's activations ({@link Vit.Activations}, {@link Swin.Activations})
 */
public final class KeptActivations<A> {
    /** Batch sizes whose buffers are kept. */
    private static final int KEPT_BATCH_SIZES = 2;

    private final IntFunction<A> make;
    private final Map<Integer, A> bySize = new LinkedHashMap<>(4, 0.75f, true);

    /** @param make the engine's buffers for one batch size */
    public KeptActivations(IntFunction<A> make) {
        this.make = make;
    }

    /** The buffers for {@code batch}; the least recently used size is let go first when a new one is needed. */
    public A get(int batch) {
        A a = bySize.get(batch);
        if (a == null) {
            if (bySize.size() >= KEPT_BATCH_SIZES) {
                bySize.remove(bySize.keySet().iterator().next());
            }
            a = make.apply(batch);
            bySize.put(batch, a);
        }
        return a;
    }
}
