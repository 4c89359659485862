package ai.pela.zoo.dense;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.pela.zoo.dense.FcosDecoder.Detection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Decoding and per-class NMS on hand-made outputs. */
class FcosDecoderTest {
    private static Detection det(double x1, double y1, double x2, double y2, double score, int label) {
        return new Detection(x1, y1, x2, y2, score, label);
    }

    @Test
    void nmsDropsOverlapsAboveTheThresholdWithinAClassOnly() {
        List<Detection> in = List.of(
                det(0, 0, 10, 10, 0.6, 0),
                det(1, 0, 11, 10, 0.9, 0),      // IoU with the first: 90/110 = 0.818 -> suppresses it
                det(1, 0, 11, 10, 0.8, 1),      // same box, other class: kept
                det(5, 0, 15, 10, 0.7, 0),      // IoU with the 0.9 box: 60/140 = 0.43 -> kept
                det(20, 20, 30, 30, 0.5, 0));
        List<Detection> out = FcosDecoder.nms(in, 0.5);
        assertThat(out).extracting(Detection::score).containsExactly(0.9, 0.8, 0.7, 0.5);
    }

    @Test
    void anIouOfExactlyTheThresholdIsKept() {
        // [0,10]x[0,10] and [0,10]x[0,30]... IoU = 100 / 300; with threshold 1/3 the second survives (mmcv: '>').
        List<Detection> out = FcosDecoder.nms(List.of(det(0, 0, 10, 10, 0.9, 2), det(0, 0, 10, 30, 0.8, 2)), 1.0 / 3);
        assertThat(out).hasSize(2);
        assertThat(FcosDecoder.nms(List.of(det(0, 0, 10, 10, 0.9, 2), det(0, 0, 10, 30, 0.8, 2)), 0.33)).hasSize(1);
    }

    @Test
    void decodeBuildsBoxesFromPointAndStridesAppliesThresholdCenternessClipAndTopK() {
        // One level of 2x2 cells, stride 8: points (4,4) (12,4) (4,12) (12,12); 2 classes.
        FcosConfig c = new FcosConfig(16, 0, List.of(1.0), 8, 1, 2, 1, List.of(List.of(-1.0, 1e8)), 1.5, 0.25, 2.0,
                0.3, 2, 0.5, 100, List.of(1, 2));
        FcosTargets.Points pts = FcosTargets.points(new int[] {2}, new double[] {8});
        float big = 4f;     // sigmoid 0.982
        float none = -4f;   // sigmoid 0.018, under the threshold
        float[] cls = {big, none, none, 1f, none, none, 0.5f, none};   // point 0 class 0; point 1 class 1; point 3 class 0
        float[] reg = {0.5f, 0.25f, 1f, 0.75f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2};
        float[] ctr = {0f, 0f, 0f, 0f};     // centerness 0.5 everywhere
        List<Detection> out = FcosDecoder.decode(cls, reg, ctr, pts, c, 16, 14);
        // nms_pre = 2 keeps the two best of the three candidates (0.982, 0.731; 0.622 dropped).
        assertThat(out).hasSize(2);
        Detection a = out.get(0);
        assertThat(a.label()).isZero();
        assertThat(a.score()).isCloseTo(0.5 / (1 + Math.exp(-4)), within(1e-12));
        assertThat(new double[] {a.x1(), a.y1(), a.x2(), a.y2()}).containsExactly(0, 2, 12, 10);
        Detection b = out.get(1);
        assertThat(b.label()).isEqualTo(1);
        // point (12, 4) with distances 8 in every direction, clipped to the 16 x 14 image
        assertThat(new double[] {b.x1(), b.y1(), b.x2(), b.y2()}).containsExactly(4, 0, 16, 12);
    }

    @Test
    void atMostMaxPerImageDetectionsComeBackBestFirst() {
        FcosConfig c = new FcosConfig(16, 0, List.of(1.0), 8, 1, 1, 1, List.of(List.of(-1.0, 1e8)), 1.5, 0.25, 2.0,
                0.05, 1000, 0.5, 3, List.of(1));
        FcosTargets.Points pts = FcosTargets.points(new int[] {2}, new double[] {8});
        float[] cls = {1f, 2f, 3f, 4f};
        float[] reg = new float[16];
        java.util.Arrays.fill(reg, 0.4f);   // small disjoint boxes: nothing suppressed
        List<Detection> out = FcosDecoder.decode(cls, reg, new float[4], pts, c, 16, 16);
        List<Double> scores = new ArrayList<>();
        out.forEach(d -> scores.add(d.score()));
        assertThat(out).hasSize(3);
        assertThat(scores).isSortedAccordingTo((x, y) -> Double.compare(y, x));
        assertThat(out.get(0).x1()).isCloseTo(12 - 3.2, within(1e-6));
    }
}
