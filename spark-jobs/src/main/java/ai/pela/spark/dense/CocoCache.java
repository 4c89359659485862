package ai.pela.spark.dense;

import ai.pela.spark.io.Storage;
import ai.pela.spark.eval.CocoInstances;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * COCO instances files read once per executor JVM and kept: every training batch and evaluation partition needs
 * the boxes of its images, and shipping the whole annotation table with every task of every round would cost more
 * than reading the file once where it runs.
 */
public final class CocoCache {
    private static final Map<String, CocoInstances> FILES = new ConcurrentHashMap<>();

    private CocoCache() {
    }

    public static CocoInstances get(Storage storage, String location) {
        return FILES.computeIfAbsent(location, k -> CocoInstances.read(storage, k));
    }
}
