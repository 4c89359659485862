package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.pela.spark.io.Storage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CocoEvalTest {
    /** pycocotools' numbers are means of at most a few thousand doubles; the port sums in another order only. */
    private static final double TOLERANCE = 1e-9;

    private record Fixture(CocoInstances gt, List<CocoDetection> dets, JsonNode expected) {
    }

    private static Fixture fixture(String name) {
        Storage storage = Storage.local();
        CocoInstances gt = CocoInstances.read(storage, EvalFixtures.path("coco/" + name + "/instances.json").toString());
        List<CocoDetection> dets = CocoDetection.read(storage,
                EvalFixtures.path("coco/" + name + "/results.json").toString(), gt);
        return new Fixture(gt, dets, EvalFixtures.json("coco/" + name + "/expected.json"));
    }

    @Test
    void thresholdsAreNumpysLinspaceToTheLastBit() {
        assertThat(CocoEval.IOU_THRESHOLDS).containsExactly(0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
                0.8999999999999999, 0.95);
        assertThat(CocoEval.RECALL_THRESHOLDS).hasSize(101);
        assertThat(CocoEval.RECALL_THRESHOLDS[57]).isEqualTo(0.5700000000000001);
        assertThat(CocoEval.RECALL_THRESHOLDS[58]).isEqualTo(0.58);
        assertThat(CocoEval.RECALL_THRESHOLDS[100]).isEqualTo(1.0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hand", "random"})
    void agreesWithPycocotools(String name) {
        Fixture f = fixture(name);
        CocoStats stats = CocoEval.evaluate(f.gt(), f.dets());
        for (String stat : CocoStats.NAMES) {
            assertThat(stats.get(stat)).as(name + " " + stat)
                    .isCloseTo(f.expected().get("stats").get(stat).asDouble(), within(TOLERANCE));
        }
        JsonNode perCat = f.expected().get("per_category_ap");
        assertThat(stats.perCategoryAp()).hasSize(perCat.size());
        stats.perCategoryAp().forEach((cat, ap) -> assertThat(ap).as(name + " category " + cat)
                .isCloseTo(perCat.get(Integer.toString(cat)).asDouble(), within(TOLERANCE)));
    }

    @Test
    void theHandFixtureCoversWhatItClaims() {
        Fixture f = fixture("hand");
        // category 3 has detections but no ground truth, category 4 ground truth but no detections
        assertThat(f.dets()).anyMatch(d -> d.categoryId() == 3);
        assertThat(f.gt().annotations()).noneMatch(a -> a.categoryId() == 3);
        assertThat(f.dets()).noneMatch(d -> d.categoryId() == 4);
        assertThat(f.gt().annotationsOf(3)).isEmpty();
        assertThat(f.dets()).noneMatch(d -> d.imageId() == 4);
        assertThat(f.gt().annotations()).anyMatch(CocoInstances.Annotation::crowd);
        CocoStats stats = CocoEval.evaluate(f.gt(), f.dets());
        assertThat(stats.perCategoryAp().get(3)).isEqualTo(-1.0);
        assertThat(stats.perCategoryAp().get(4)).isEqualTo(0.0);
    }

    @Test
    void partialsMergedInAnyGroupingGiveExactlyTheSingleMachineNumbers() throws Exception {
        Fixture f = fixture("random");
        CocoStats whole = CocoEval.evaluate(f.gt(), f.dets());
        Map<Long, List<CocoDetection>> byImage = new HashMap<>();
        f.dets().forEach(d -> byImage.computeIfAbsent(d.imageId(), k -> new ArrayList<>()).add(d));
        Random random = new Random(3);
        List<DetectionTally> partitions = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            partitions.add(new DetectionTally(f.gt().categoryIds()));
        }
        for (CocoInstances.Image img : f.gt().images()) {  // file order, not id order, spread at random
            partitions.get(random.nextInt(3)).add(img.id(), f.gt().annotationsOf(img.id()),
                    byImage.getOrDefault(img.id(), List.of()));
        }
        DetectionTally merged = roundTrip(partitions.get(2)).merge(roundTrip(partitions.get(0)))
                .merge(roundTrip(partitions.get(1)));
        assertThat(merged.images()).isEqualTo(f.gt().images().size());
        assertThat(merged.stats().stats()).containsExactly(whole.stats());
    }

    private static DetectionTally roundTrip(DetectionTally t) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(t);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (DetectionTally) in.readObject();
        }
    }

    // ------------------------------------------------------------------------------------ hand-computed cases

    /** A perfect precision is 1/(1 + 2⁻⁵²) in COCO's arithmetic (the epsilon keeps 0/0 at 0), as in pycocotools. */
    private static final org.assertj.core.data.Offset<Double> ULPS = within(1e-15);

    private static CocoInstances.Annotation gt(long id, int cat, Box box, boolean crowd) {
        return new CocoInstances.Annotation(id, 1, cat, box, box.area(), crowd);
    }

    private static CocoDetection det(int cat, Box box, double score) {
        return new CocoDetection(1, cat, box, score);
    }

    @Test
    void oneExactHitIsPerfectAndOnlyItsAreaRangeIsDefined() {
        DetectionTally t = new DetectionTally(new int[] {1});
        t.add(1, List.of(gt(1, 1, new Box(0, 0, 50, 50), false)), List.of(det(1, new Box(0, 0, 50, 50), 0.5)));
        CocoStats s = t.stats();
        assertThat(s.ap()).isCloseTo(1.0, ULPS);
        assertThat(s.get("APm")).isCloseTo(1.0, ULPS);
        assertThat(s.get("APs")).isEqualTo(-1.0);
        assertThat(s.get("APl")).isEqualTo(-1.0);
        assertThat(s.get("AR1")).isEqualTo(1.0);
    }

    @Test
    void aHigherScoredFalsePositiveHalvesThePrecisionAtFullRecall() {
        DetectionTally t = new DetectionTally(new int[] {1});
        Box object = new Box(0, 0, 50, 50);
        t.add(1, List.of(gt(1, 1, object, false)),
                List.of(det(1, object, 0.5), det(1, object, 0.9)));
        // a duplicate ranked below the hit is a false positive that comes after full recall: it costs nothing
        assertThat(t.stats().ap()).isCloseTo(1.0, ULPS);

        DetectionTally u = new DetectionTally(new int[] {1});
        u.add(1, List.of(gt(1, 1, object, false)),
                List.of(det(1, object, 0.5), det(1, new Box(200, 200, 50, 50), 0.9)));
        // precision 1/2 at recall 1 for all 101 recall points
        assertThat(u.stats().ap()).isCloseTo(0.5, within(1e-15));
        assertThat(u.stats().get("AR1")).isEqualTo(0.0);
        assertThat(u.stats().get("AR10")).isEqualTo(1.0);
    }

    @Test
    void detectionsInsideACrowdAreNeitherHitsNorMisses() {
        DetectionTally t = new DetectionTally(new int[] {1});
        Box crowd = new Box(0, 0, 400, 400);
        Box person = new Box(500, 500, 40, 40);
        t.add(1, List.of(gt(1, 1, crowd, true), gt(2, 1, person, false)),
                List.of(det(1, new Box(10, 10, 30, 30), 0.99), det(1, new Box(100, 100, 60, 60), 0.98),
                        det(1, person, 0.5)));
        assertThat(t.stats().ap()).isCloseTo(1.0, ULPS);
        assertThat(Box.iou(new Box(10, 10, 30, 30), crowd, true)).isEqualTo(1.0);
        assertThat(Box.iou(new Box(10, 10, 30, 30), crowd, false)).isCloseTo(900.0 / 160000, within(1e-15));
    }

    @Test
    void noDetectionsGiveZeroAndACategoryWithoutGroundTruthIsLeftOut() {
        DetectionTally t = new DetectionTally(new int[] {1, 2});
        t.add(1, List.of(gt(1, 1, new Box(0, 0, 50, 50), false)), List.of(det(2, new Box(0, 0, 50, 50), 0.9)));
        CocoStats s = t.stats();
        assertThat(s.ap()).isEqualTo(0.0);
        assertThat(s.perCategoryAp()).containsEntry(1, 0.0).containsEntry(2, -1.0);
    }

    @Test
    void onlyTheHundredBestDetectionsOfAnImageCount() {
        DetectionTally t = new DetectionTally(new int[] {1});
        List<CocoDetection> dets = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            dets.add(det(1, new Box(1000 + i, 1000, 10, 10), 0.9));
        }
        Box object = new Box(0, 0, 50, 50);
        dets.add(det(1, object, 0.1));  // the hit is the 101st by score
        t.add(1, List.of(gt(1, 1, object, false)), dets);
        assertThat(t.stats().get("AR100")).isEqualTo(0.0);
    }

    @Test
    void aTallyRefusesBoxesOfAnotherImageOrAnUnknownCategory() {
        DetectionTally t = new DetectionTally(new int[] {1});
        assertThatThrownBy(() -> t.add(2, List.of(), List.of(det(1, new Box(0, 0, 1, 1), 1))))
                .hasMessageContaining("belongs to image 1, not 2");
        assertThatThrownBy(() -> t.add(1, List.of(), List.of(det(7, new Box(0, 0, 1, 1), 1))))
                .hasMessageContaining("category 7");
        assertThatThrownBy(() -> t.merge(new DetectionTally(new int[] {1, 2})))
                .hasMessageContaining("different categories");
    }

    @Test
    void statsAsJsonNameEveryNumber() {
        Fixture f = fixture("hand");
        JsonNode json = CocoEval.evaluate(f.gt(), f.dets()).toJson();
        assertThat(json.get("AP50").asDouble()).isCloseTo(f.expected().get("stats").get("AP50").asDouble(),
                within(TOLERANCE));
        assertThat(json.get("per_category_ap").get("3").asDouble()).isEqualTo(-1.0);
        assertThat(json.size()).isEqualTo(13);
    }
}
