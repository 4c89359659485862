package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EpochPlanTest {
    private static final List<Sample> SAMPLES = IntStream.range(0, 1000)
            .mapToObj(i -> Sample.file("hdfs://nn/data/train/c" + i % 10 + "/img" + i + ".jpg", i % 10))
            .toList();

    @Test
    void theOrderIsASeededShuffleThatDiffersPerEpoch() {
        EpochPlan plan = new EpochPlan(SAMPLES, 7, 2, 3, 16);
        EpochPlan again = new EpochPlan(new ArrayList<>(SAMPLES), 7, 2, 3, 16);
        assertThat(plan.order(0)).isEqualTo(again.order(0)).containsExactlyInAnyOrderElementsOf(SAMPLES);
        assertThat(plan.order(3)).isEqualTo(again.order(3));
        assertThat(plan.order(0)).isNotEqualTo(plan.order(1)).isNotEqualTo(SAMPLES);
        assertThat(new EpochPlan(SAMPLES, 8, 2, 3, 16).order(0)).isNotEqualTo(plan.order(0));

        List<Sample> expected = new ArrayList<>(SAMPLES);
        Collections.shuffle(expected, new Random(7 * 1_000_003L + 5));
        assertThat(plan.order(5)).isEqualTo(expected);
    }

    @Test
    void roundsDropTheRemainderOfAnEpoch() {
        assertThat(new EpochPlan(SAMPLES, 1, 2, 3, 16).roundsPerEpoch()).isEqualTo(10); // 1000 / 96
        assertThat(new EpochPlan(SAMPLES, 1, 1, 1, 1000).roundsPerEpoch()).isEqualTo(1);
        assertThatThrownBy(() -> new EpochPlan(SAMPLES, 1, 4, 4, 64))
                .isInstanceOf(PelaException.class)
                .hasMessageContaining("1000 samples is too small")
                .hasMessageContaining("4 × 4 × 64 = 1024");
    }

    @Test
    void eachRoundCutsConsecutiveDisjointSlicesPerWorker() {
        int workers = 3;
        int k = 2;
        int batch = 8;
        EpochPlan plan = new EpochPlan(SAMPLES, 11, workers, k, batch);
        for (int epoch = 0; epoch < 2; epoch++) {
            List<Sample> order = plan.order(epoch);
            Set<Sample> seen = new HashSet<>();
            for (int r = 0; r < plan.roundsPerEpoch(); r++) {
                List<List<List<Sample>>> round = plan.round(epoch, r);
                assertThat(round).hasSize(workers);
                for (int w = 0; w < workers; w++) {
                    assertThat(round.get(w)).hasSize(k);
                    for (int s = 0; s < k; s++) {
                        int from = r * workers * k * batch + (w * k + s) * batch;
                        assertThat(round.get(w).get(s)).isEqualTo(order.subList(from, from + batch));
                        for (Sample x : round.get(w).get(s)) {
                            assertThat(seen.add(x)).as("sample used twice in an epoch").isTrue();
                        }
                    }
                }
            }
            assertThat(seen).hasSize(plan.roundsPerEpoch() * workers * k * batch)
                    .containsExactlyInAnyOrderElementsOf(order.subList(0, seen.size()));
        }
        assertThatThrownBy(() -> plan.round(0, plan.roundsPerEpoch())).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void batchesAreSerialisable() throws Exception {
        List<Sample> b = new EpochPlan(SAMPLES, 1, 2, 2, 4).round(0, 0).get(1).get(1);
        java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(new java.io.ByteArrayOutputStream());
        out.writeObject(b);
        out.close();
    }

    @Test
    void sampleSeedsAreDeterministicAndDistinct() {
        EpochPlan plan = new EpochPlan(SAMPLES, 3, 2, 3, 16);
        EpochPlan again = new EpochPlan(SAMPLES, 3, 2, 3, 16);
        Set<Long> seeds = new HashSet<>();
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int r = 0; r < plan.roundsPerEpoch(); r++) {
                for (int w = 0; w < 2; w++) {
                    for (int s = 0; s < 3; s++) {
                        long[] batch = plan.batchSeeds(epoch, r, w, s);
                        assertThat(batch).containsExactly(again.batchSeeds(epoch, r, w, s));
                        for (int i = 0; i < 16; i++) {
                            assertThat(batch[i]).isEqualTo(plan.sampleSeed(epoch, r, w, s, i));
                            seeds.add(batch[i]);
                        }
                    }
                }
            }
        }
        assertThat(seeds).hasSize(2 * plan.roundsPerEpoch() * 2 * 3 * 16);
        assertThat(new EpochPlan(SAMPLES, 4, 2, 3, 16).sampleSeed(0, 0, 0, 0, 0)).isNotEqualTo(plan.sampleSeed(0, 0, 0, 0, 0));
        assertThatThrownBy(() -> plan.sampleSeed(0, 0, 2, 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * The repro in numbers: the demo recipe (2 workers × k 4 × batch 64 = 512 samples a round) checkpointed at
     * round 6 has consumed 3,072 samples; resumed with 1 worker (256 a round) it continues at sample 3,072 — not at
     * round 6 of the new plan, sample 1,536.
     */
    @Test
    void aPositionInSamplesMeansTheSameUnderAnotherPlan() {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 6000; i++) {
            samples.add(Sample.file("f" + i, i % 10));
        }
        EpochPlan two = new EpochPlan(samples, 7, 2, 4, 64);
        EpochPlan one = new EpochPlan(samples, 7, 1, 4, 64);
        DataPosition saved = two.atRound(6);
        assertThat(saved).isEqualTo(new DataPosition(0, 3072));
        assertThat(one.atRound(6).samples()).as("the old rule").isEqualTo(1536);
        assertThat(one.slice(saved).get(0).get(0).get(0)).isEqualTo(one.order(0).get(3072));
        // 6000 - 3072 = 2928 samples left: 11 rounds of 256, the last 112 samples dropped.
        assertThat(one.roundsUntil(saved, 1)).isEqualTo(11);
        assertThat(one.roundsUntil(saved, 2)).isEqualTo(11 + one.roundsPerEpoch());
        DataPosition last = new DataPosition(0, 3072 + 10 * 256);
        assertThat(one.after(last)).as("the epoch's tail is dropped").isEqualTo(new DataPosition(1, 0));
        assertThat(one.after(saved)).isEqualTo(new DataPosition(0, 3072 + 256));
        assertThat(new EpochPlan(samples, 7, 2, 8, 64).normalise(new DataPosition(0, 5500)))
                .as("too little left for a round of the new plan").isEqualTo(new DataPosition(1, 0));
    }
}
