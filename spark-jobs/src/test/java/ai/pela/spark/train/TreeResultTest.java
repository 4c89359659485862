package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The averaging arithmetic: parameters and moments weighted by each worker's examples. */
class TreeResultTest {
    private static TreeResult worker(float[] p, float m, float v, long n, double loss) {
        TreeResult r = TreeResult.zero();
        r.examples = n;
        r.params = TreeResult.weighted(p, n);
        r.m = TreeResult.weighted(new float[] {m, m}, n);
        r.v = TreeResult.weighted(new float[] {v, v}, n);
        r.lossSums[0] = loss * n;
        return r;
    }

    @Test
    void weightedAverageOfTwoWorkers() {
        TreeResult sum = TreeResult.zero()
                .add(worker(new float[] {1, 2}, 0.5f, 1, 30, 2.0))
                .add(worker(new float[] {4, -1}, 1.5f, 3, 10, 1.0));
        assertThat(sum.examples).isEqualTo(40);
        float[] p = TreeResult.average(sum.params, sum.examples);
        assertThat(p[0]).isCloseTo((1 * 30 + 4 * 10) / 40f, within(1e-6f));
        assertThat(p[1]).isCloseTo((2 * 30 - 1 * 10) / 40f, within(1e-6f));
        assertThat(TreeResult.average(sum.m, sum.examples)[0]).isCloseTo(0.75f, within(1e-6f));
        assertThat(TreeResult.average(sum.v, sum.examples)[1]).isCloseTo(1.5f, within(1e-6f));
        assertThat(sum.lossSums[0] / sum.examples).isCloseTo(1.75, within(1e-12));
    }

    @Test
    void emptyZeroAndNonFiniteFlagsCombine() {
        TreeResult a = TreeResult.zero();
        TreeResult b = TreeResult.zero();
        b.nonFinite = "loss.fd";
        b.skipped.add("bad.jpg");
        a.add(b).add(TreeResult.zero());
        assertThat(a.nonFinite).isEqualTo("loss.fd");
        assertThat(a.skipped).containsExactly("bad.jpg");
        assertThat(a.params).isNull();
    }

    @Test
    void anotherStepsComponentsAreSummedByNameAndRoundTripThroughMetricsJson() {
        TreeResult a = TreeResult.zero();
        a.lossNames = java.util.List.of("loss", "loss.cls", "loss.bbox", "loss.centerness", "loss.extra");
        a.ensureLosses(5);
        a.examples = 2;
        a.lossSums = new double[] {2, 1, 0.5, 0.5, 0};
        TreeResult sum = TreeResult.zero().add(a).add(TreeResult.zero());
        assertThat(sum.names()).hasSize(5).first().isEqualTo("loss");
        assertThat(sum.lossSums).hasSize(5);
        RoundMetrics m = new RoundMetrics(0, 0, 0, 2, 1.0, Double.NaN, Double.NaN, Double.NaN, 1e-3, 10, 0, 1, 0, 1, 0,
                java.util.Map.of("cls", 0.5));
        RoundMetrics back = parse(MetricsLog.toJson(m));
        assertThat(back.components()).containsEntry("cls", 0.5);
        assertThat(back.lossBase()).isNaN();
        RoundMetrics pela = new RoundMetrics(3, 0, 3, 8, 2.0, 1.5, 0.4, 0.1, 1e-3, 10, 0, 1, 0, 1, 0);
        assertThat(MetricsLog.toJson(pela)).contains("\"loss\":{\"total\":2.0,\"base\":1.5,\"fd\":0.4,\"rwp\":0.1}");
        assertThat(parse(MetricsLog.toJson(pela))).isEqualTo(pela);
    }

    private static RoundMetrics parse(String json) {
        try {
            return MetricsLog.parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
