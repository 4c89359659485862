package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.demo.TestFashionMnist;
import ai.pela.spark.demo.ForgedScenes;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The partials as a Spark job uses them: filled per partition on executors, merged by {@code treeAggregate} on the
 * driver, equal to one pass on one machine.
 */
class SparkPartialsTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = SparkContexts.create("eval-test", null, 2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    /** A deterministic imperfect segmenter: the left 20 columns are predicted as class (label + 1) mod 150. */
    private static int[] predict(LabelMap label) {
        int[] pred = new int[label.labels().length];
        for (int i = 0; i < pred.length; i++) {
            int l = label.labels()[i] == SegHistogram.IGNORE_INDEX ? 0 : label.labels()[i];
            pred[i] = i % label.width() < 20 ? (l + 1) % Ade20kSource.NUM_CLASSES : l;
        }
        return pred;
    }

    @Test
    void segmentationHistogramsOfPartitionsMergeToTheSinglePass(@TempDir Path dir) {
        ForgedScenes.Summary data = ForgedScenes.write(TestFashionMnist.idxDir(), dir.resolve("d"),
                ForgedScenes.Options.of(9, 0, 24));
        Storage storage = Storage.local();
        List<SegSample> samples = new Ade20kSource(storage, data.ade20k().toString()).list(Ade20kSource.VALIDATION);
        SegHistogram single = new SegHistogram(Ade20kSource.NUM_CLASSES);
        for (SegSample s : samples) {
            LabelMap label = Ade20kSource.load(storage, s).label();
            single.add(predict(label), label.labels());
        }
        SerializableConf conf = new SerializableConf(storage.conf());
        SegHistogram merged = sc.parallelize(samples, 5).treeAggregate(new SegHistogram(Ade20kSource.NUM_CLASSES),
                (h, s) -> {
                    LabelMap label = Ade20kSource.load(conf.storage(), s).label();
                    return h.add(predict(label), label.labels());
                },
                SegHistogram::merge, 2);
        assertThat(merged.images()).isEqualTo(24);
        for (int c = 0; c < Ade20kSource.NUM_CLASSES; c++) {
            assertThat(merged.intersect(c)).isEqualTo(single.intersect(c));
            assertThat(merged.union(c)).isEqualTo(single.union(c));
        }
        assertThat(merged.miou()).isEqualTo(single.miou()).isBetween(0.3, 0.99);
    }

    private record ImageBoxes(long id, List<CocoInstances.Annotation> gts, List<CocoDetection> dets)
            implements Serializable {
    }

    @Test
    void detectionTalliesOfPartitionsMergeToTheSinglePass() {
        CocoInstances gt = CocoInstances.read(Storage.local(), EvalFixtures.path("coco/random/instances.json").toString());
        List<CocoDetection> dets = CocoDetection.read(Storage.local(),
                EvalFixtures.path("coco/random/results.json").toString(), gt);
        Map<Long, List<CocoDetection>> byImage = new HashMap<>();
        dets.forEach(d -> byImage.computeIfAbsent(d.imageId(), k -> new ArrayList<>()).add(d));
        List<ImageBoxes> images = new ArrayList<>();
        for (CocoInstances.Image img : gt.images()) {
            images.add(new ImageBoxes(img.id(), List.copyOf(gt.annotationsOf(img.id())),
                    List.copyOf(byImage.getOrDefault(img.id(), List.of()))));
        }
        DetectionTally merged = sc.parallelize(images, 7).treeAggregate(new DetectionTally(gt.categoryIds()),
                (t, i) -> t.add(i.id(), i.gts(), i.dets()), DetectionTally::merge, 2);
        assertThat(merged.images()).isEqualTo(images.size());
        assertThat(merged.stats().stats()).containsExactly(CocoEval.evaluate(gt, dets).stats());
    }
}
