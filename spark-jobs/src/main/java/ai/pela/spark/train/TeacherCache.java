package ai.pela.spark.train;

import ai.pela.zoo.io.StateDict;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per executor JVM: teacher weights by location (and device), loaded once and shared by every step built here —
 * the teacher is never broadcast. Step factories ({@link StepFactory}) load their teachers through it too.
 */
public final class TeacherCache {
    private static final Logger LOG = LoggerFactory.getLogger(TeacherCache.class);
    private static final Map<String, StateDict> TEACHERS = new ConcurrentHashMap<>();

    private TeacherCache() {
    }

    public static StateDict get(String key, Supplier<StateDict> load) {
        return TEACHERS.computeIfAbsent(key, k -> {
            LOG.info("loading teacher {} (once per executor)", k);
            return load.get();
        });
    }

    static void clear() {
        TEACHERS.clear();
    }
}
