package ai.pela.spark.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The cost model's formulas against numbers worked out by hand. */
class CostModelTest {
    // 1 M parameters, 1 GB/s links, 2 GB/s serialisation of float[] and 4 GB/s of byte[], 100 images/s per GPU, batch 10,
    // no fixed per-round latency (a second model below has one).
    final CostModel m = new CostModel(1_000_000, 1e9, 2e9, 4e9, 100, 10, 0);

    @Test
    void treeMovesParamsAndBothMomentsThroughOnePlusTwoRootNCopies() {
        CostModel.Point p = m.at(16, 4);
        double copies = 1 + 2 * 4;
        assertThat(p.comm()).isCloseTo(copies * 12e6 / 1e9 + copies * 12e6 / 2e9, within(1e-12));
        assertThat(p.compute()).isCloseTo(0.4, within(1e-12));
        assertThat(p.overhead()).isCloseTo(p.comm() / (p.comm() + 0.4), within(1e-12));
    }

    @Test
    void ringCarriesTwiceTheChangesPerLinkAndTheStateToTheDriverOnCheckpointRoundsOnly() {
        // BF16: 2 MB of changes, ring 2·(3/4)·2 MB on the link; every 10 rounds the moments go round too (twice the
        // ring volume) and 12 MB of FP32 state go to the driver (link + byte[] serialisation).
        double ring = 2 * 0.75 * 2e6 / 1e9;
        double checkpoint = 2 * ring + 12e6 / 1e9 + 12e6 / 4e9;
        assertThat(m.ringComm(4, 2, 10)).isCloseTo(ring + checkpoint / 10, within(1e-12));
        assertThat(m.ring(4, 16, 2, 10).compute()).isCloseTo(1.6, within(1e-12));
    }

    @Test
    void theFixedRoundLatencyAddsToBothExchanges() {
        CostModel slow = new CostModel(1_000_000, 1e9, 2e9, 4e9, 100, 10, 0.05);
        assertThat(slow.at(16, 4).comm() - m.at(16, 4).comm()).isCloseTo(0.05, within(1e-12));
        assertThat(slow.ringComm(16, 2, 10) - m.ringComm(16, 2, 10)).isCloseTo(0.05, within(1e-12));
    }

    @Test
    void theRingsCostBarelyGrowsWithTheNumberOfGpusWhileTheTreesDoes() {
        double ring8 = m.ringComm(8, 2, 500);
        double ring64 = m.ringComm(64, 2, 500);
        assertThat(ring64 / ring8).as("at most (63/64) / (7/8)").isLessThan(1.126);
        assertThat(m.at(64, 1).comm() / m.at(8, 1).comm()).isGreaterThan(2);
    }
}
