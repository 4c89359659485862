package ai.pela.spark.train;

import ai.pela.zoo.train.TrainStep;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per executor JVM: the teacher's weights, loaded once from their Hadoop path, and a pool of built trainers
 * (one per concurrently running task), reused round after round — building a SameDiff graph takes seconds, and
 * each round's broadcast overwrites the student's parameters and optimiser state anyway.
 */
final class WorkerCache {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerCache.class);
    private static final Map<String, Queue<TrainStep>> POOL = new ConcurrentHashMap<>();
    // By identity: which round's state a pooled trainer holds, and which worker used it last.
    private static final Map<TrainStep, String> TAGS = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());
    private static final Map<TrainStep, Integer> LAST_WORKER =
            java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    private WorkerCache() {
    }

    /** A trainer for {@code spec} whose arrays live on {@code device} (the task's GPU; -1 on CPU). */
    static TrainStep borrow(ModelSpec spec, int device) {
        TrainStep step = POOL.computeIfAbsent(key(spec, device), k -> new ConcurrentLinkedQueue<>()).poll();
        return step != null ? step : build(spec, device);
    }

    /**
     * Like {@link #borrow}, preferring the trainer that worker {@code worker} gave back last: under the ring exchange a
     * trainer keeps its worker's AdamW moments from round to round, so handing it to the same worker again keeps
     * the run reproducible wherever the tasks land in the same places.
     */
    static TrainStep borrowFor(ModelSpec spec, int device, int worker) {
        Queue<TrainStep> q = POOL.computeIfAbsent(key(spec, device), k -> new ConcurrentLinkedQueue<>());
        for (TrainStep s : q) {
            Integer last = LAST_WORKER.get(s);
            if (last != null && last == worker && q.remove(s)) {
                return s;
            }
        }
        TrainStep step = q.poll();
        return step != null ? step : build(spec, device);
    }

    /** What state {@code step} holds (see {@link RingWorker}), or null when unknown. */
    static String tag(TrainStep step) {
        return TAGS.get(step);
    }

    static void tag(TrainStep step, String tag, int worker) {
        if (tag == null) {
            TAGS.remove(step);
        } else {
            TAGS.put(step, tag);
        }
        LAST_WORKER.put(step, worker);
    }

    static void giveBack(ModelSpec spec, int device, TrainStep step) {
        POOL.computeIfAbsent(key(spec, device), k -> new ConcurrentLinkedQueue<>()).add(step);
    }

    // A trainer built on one GPU must not be handed to a task bound to another.
    private static String key(ModelSpec spec, int device) {
        return spec.cacheKey() + "@" + device;
    }

    private static TrainStep build(ModelSpec spec, int device) {
        long t0 = System.nanoTime();
        TrainStep step = spec.factory().create(spec, device);
        LOG.info("built a {} trainer in {} s", spec.factory().key(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        return step;
    }

    /** Drops everything (tests use this to simulate a fresh executor). */
    static void clear() {
        TeacherCache.clear();
        POOL.clear();
        TAGS.clear();
        LAST_WORKER.clear();
    }
}
