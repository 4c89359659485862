package ai.pela.spark.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

class SegHistogramTest {
    private static final int I = SegHistogram.IGNORE_INDEX;

    @Test
    void handComputedIouAccAndTheClassesLeftOut() {
        // 4 classes. Class 0: I=2, pred 2, label 3 → U=3. Class 1: I=1, pred 2, label 2 → U=3.
        // Class 2: only predicted (1 pixel) → IoU 0, Acc NaN. Class 3: nowhere → IoU NaN, left out of the mean.
        // The two ignored pixels count nowhere although something was predicted there.
        int[] label = {0, 0, 1, 1, 0, I, I};
        int[] pred = {0, 0, 1, 2, 1, 3, 0};
        SegHistogram h = new SegHistogram(4).add(pred, label);
        assertThat(h.intersect(0)).isEqualTo(2);
        assertThat(h.union(0)).isEqualTo(3);
        assertThat(h.union(1)).isEqualTo(3);
        assertThat(h.iou()).containsExactly(2.0 / 3, 1.0 / 3, 0.0, Double.NaN);
        assertThat(h.acc()).containsExactly(2.0 / 3, 1.0 / 2, Double.NaN, Double.NaN);
        assertThat(h.miou()).isCloseTo((2.0 / 3 + 1.0 / 3 + 0) / 3, within(1e-15));
        assertThat(h.macc()).isCloseTo((2.0 / 3 + 1.0 / 2) / 2, within(1e-15));
        assertThat(h.aAcc()).isEqualTo(3.0 / 5);
        assertThat(h.images()).isEqualTo(1);
    }

    @Test
    void jsonIsInPercentWithNullForUndefinedValues() {
        SegHistogram h = new SegHistogram(3).add(new int[] {0, 1, 1}, new int[] {0, 0, 1});
        var json = h.toJson(java.util.List.of("wall", "floor", "sky"));
        assertThat(json.get("aAcc").asDouble()).isCloseTo(100.0 * 2 / 3, within(1e-12));
        assertThat(json.get("mIoU").asDouble()).isCloseTo(100.0 * (0.5 + 0.5) / 2, within(1e-12));
        assertThat(json.get("per_class").get("floor").get("IoU").asDouble()).isCloseTo(50.0, within(1e-12));
        assertThat(json.get("per_class").get("sky").get("IoU").isNull()).isTrue();
        assertThat(json.get("images").asInt()).isEqualTo(1);
        assertThat(h.toJson(null).get("per_class").has("2")).isTrue();
        assertThatThrownBy(() -> h.toJson(java.util.List.of("wall"))).hasMessageContaining("1 class names for 3");
    }

    @Test
    void iouIsOfDatasetTotalsNotAMeanOverImages() {
        // Image A: class 0 perfect on 1 pixel (IoU 1). Image B: class 0 labelled on 9 pixels, predicted on none.
        SegHistogram h = new SegHistogram(2)
                .add(new int[] {0}, new int[] {0})
                .add(new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0});
        assertThat(h.iou()[0]).isEqualTo(1.0 / 10);  // not (1 + 0) / 2
        assertThat(h.iou()[1]).isEqualTo(0.0);
    }

    @Test
    void nothingLabelledGivesNaN() {
        SegHistogram h = new SegHistogram(3).add(new int[] {1, 2}, new int[] {I, I});
        assertThat(h.miou()).isNaN();
        assertThat(h.aAcc()).isNaN();
    }

    @Test
    void agreesWithANumpyTranscriptionOfMmsegThroughPngLabelMaps() {
        JsonNode f = EvalFixtures.json("seg/mmseg_random.json");
        int numClasses = f.get("num_classes").asInt();
        SegHistogram h = new SegHistogram(numClasses, f.get("ignore_index").asInt());
        for (JsonNode img : f.get("images")) {
            int w = img.get("width").asInt();
            int hgt = img.get("height").asInt();
            byte[] png = LabelPngs.grey(w, hgt, ints(img.get("raw_label")));
            LabelMap label = Ade20kSource.decodeLabels(png, "fixture.png");
            h.add(ints(img.get("pred")), label.labels());
        }
        JsonNode e = f.get("expected");
        for (int c = 0; c < numClasses; c++) {
            assertThat(h.intersect(c)).as("intersect %d", c).isEqualTo(e.get("intersect").get(c).asLong());
            assertThat(h.union(c)).as("union %d", c).isEqualTo(e.get("union").get(c).asLong());
            assertThat(h.predArea(c)).as("pred %d", c).isEqualTo(e.get("pred_area").get(c).asLong());
            assertThat(h.labelArea(c)).as("label %d", c).isEqualTo(e.get("label_area").get(c).asLong());
            JsonNode iou = e.get("iou").get(c);
            if (iou.isNull()) {
                assertThat(h.iou()[c]).as("iou %d", c).isNaN();
            } else {
                assertThat(h.iou()[c]).as("iou %d", c).isEqualTo(iou.asDouble());
            }
        }
        assertThat(e.get("iou").get(6).isNull()).as("the fixture has a class neither predicted nor labelled").isTrue();
        assertThat(e.get("iou").get(7).asDouble()).as("and one only predicted").isEqualTo(0.0);
        assertThat(h.miou()).isCloseTo(e.get("mIoU").asDouble(), within(1e-12));
        assertThat(h.macc()).isCloseTo(e.get("mAcc").asDouble(), within(1e-12));
        assertThat(h.aAcc()).isEqualTo(e.get("aAcc").asDouble());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void partialsMergeAfterSerialisationToTheSinglePassCounts() throws Exception {
        int[][] preds = {{0, 1, 2}, {2, 2, 0, 1}, {1}};
        int[][] labels = {{0, 1, 1}, {2, I, 0, 0}, {1}};
        SegHistogram whole = new SegHistogram(3);
        SegHistogram a = new SegHistogram(3);
        SegHistogram b = new SegHistogram(3);
        for (int i = 0; i < preds.length; i++) {
            whole.add(preds[i], labels[i]);
            (i == 1 ? b : a).add(preds[i], labels[i]);
        }
        SegHistogram merged = roundTrip(b).merge(roundTrip(a));
        for (int c = 0; c < 3; c++) {
            assertThat(merged.intersect(c)).isEqualTo(whole.intersect(c));
            assertThat(merged.union(c)).isEqualTo(whole.union(c));
            assertThat(merged.labelArea(c)).isEqualTo(whole.labelArea(c));
        }
        assertThat(merged.images()).isEqualTo(3);
        assertThat(merged.miou()).isEqualTo(whole.miou());
        assertThatThrownBy(() -> merged.merge(new SegHistogram(4)))
                .hasMessageContaining("cannot merge a histogram of 4 classes");
    }

    private static SegHistogram roundTrip(SegHistogram h) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(h);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (SegHistogram) in.readObject();
        }
    }

    @Test
    void valuesThatAreNeitherClassNorIgnoreAreRefused() {
        SegHistogram h = new SegHistogram(3);
        assertThatThrownBy(() -> h.add(new int[] {3}, new int[] {0}))
                .hasMessageContaining("prediction 3 at pixel 0 is not a class (0..2)");
        assertThatThrownBy(() -> h.add(new int[] {0}, new int[] {7}))
                .hasMessageContaining("label 7 at pixel 0");
        assertThatThrownBy(() -> h.add(new int[] {0, 0}, new int[] {0}))
                .hasMessageContaining("prediction has 2 pixels, label has 1");
        assertThatThrownBy(() -> new SegHistogram(300))
                .hasMessageContaining("ignore index 255 is a class");
    }
}
