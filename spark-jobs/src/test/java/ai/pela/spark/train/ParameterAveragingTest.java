package ai.pela.spark.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.spark.data.EpochPlan;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.jobs.SparkContexts;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.OptimizerState;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** One round on a fixed toy problem equals the hand-computed example-weighted average of the workers. */
class ParameterAveragingTest {
    static JavaSparkContext sc;
    static final ModelConfig CFG = ConfigJson.parse("{\"img_size\": 8, \"patch_size\": 4, \"embed_dim\": 16,"
            + " \"depth\": 1, \"num_heads\": 2, \"mlp_ratio\": 2.0, \"num_classes\": 3}", "toy");

    /** Images made from the sample's offset alone, so every executor sees the same data. */
    static final class ToySource implements BatchSource {
        private final double poison;

        ToySource(double poison) {
            this.poison = poison;
        }

        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            float[] x = new float[samples.size() * 3 * 8 * 8];
            int[] y = new int[samples.size()];
            for (int i = 0; i < samples.size(); i++) {
                java.util.Random rng = new java.util.Random(samples.get(i).offset());
                for (int j = 0; j < 192; j++) {
                    x[i * 192 + j] = (float) (rng.nextGaussian() + poison);
                }
                y[i] = samples.get(i).label();
            }
            return new LoadedBatch(Nd4j.create(x, new long[] {samples.size(), 3, 8, 8}, 'c'), y, List.of());
        }
    }

    @BeforeAll
    static void start() {
        sc = SparkContexts.create("test", null, 2);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static List<Sample> samples(int n) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(new Sample("mem://toy", i, 1, i % 3));
        }
        return s;
    }

    @Test
    void oneRoundEqualsTheWeightedAverageOfTwoWorkersKLocalSteps(@TempDir Path dir) {
        int k = 3;
        StepHyper hyper = StepHyper.supervised(1e-2, 0.05, 0.1);
        EpochPlan plan = new EpochPlan(samples(48), 5, 2, k, 8);
        StateDict init = VitInit.random(CFG, 11);
        List<String> order = List.copyOf(VitLayout.parameterShapes(CFG).keySet());
        float[] p0 = ai.pela.zoo.train.Flat.flatten(init.asMap(), order).toFloatVector();
        TrainState start = new TrainState(p0, new float[p0.length], new float[p0.length], 0, 0);
        ToySource source = new ToySource(0);
        ModelSpec spec = new ModelSpec(CFG, null, null, hyper, new SerializableConf(sc.hadoopConfiguration()));
        ParameterAveraging pa = new ParameterAveraging(sc, spec, source, plan,
                new ParameterAveraging.Settings(2, k, 1, 1, 5), new Checkpoints(Storage.local(), Storage.path(dir.toString()), 2),
                new MetricsLog(Storage.local(), Storage.path(dir.toString()), 0));
        TrainState got = pa.run(start);

        // By hand: each worker from the same start, k steps on its own slice, then the average (equal batch sizes).
        List<List<List<Sample>>> round = plan.round(0, 0);
        float[] sumP = new float[p0.length];
        float[] sumV = new float[p0.length];
        for (int w = 0; w < 2; w++) {
            PelaStep step = new PelaStep(CFG, init, null, null, hyper);
            step.importOptimizer(new OptimizerState(0, Nd4j.zeros(DataType.FLOAT, p0.length), Nd4j.zeros(DataType.FLOAT, p0.length)));
            for (int s = 0; s < k; s++) {
                LoadedBatch b = source.load(round.get(w).get(s), ParameterAveraging.batchSeed(5, 0, w, s));
                step.step(b.images(), b.labels());
            }
            float[] p = step.exportParams().toFloatVector();
            float[] v = step.exportOptimizer().v().toFloatVector();
            for (int i = 0; i < p.length; i++) {
                sumP[i] += p[i] / 2;
                sumV[i] += v[i] / 2;
            }
        }
        float maxDiff = 0;
        float maxMove = 0;
        for (int i = 0; i < p0.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(got.params()[i] - sumP[i]));
            maxDiff = Math.max(maxDiff, Math.abs(got.v()[i] - sumV[i]));
            maxMove = Math.max(maxMove, Math.abs(got.params()[i] - p0[i]));
        }
        assertThat(maxMove).as("the round changed the parameters").isGreaterThan(1e-3f);
        assertThat(maxDiff).isLessThan(1e-6f);
        assertThat(got.step()).isEqualTo(k);
        assertThat(got.roundsDone()).isEqualTo(1);
    }

    @Test
    void aNonFiniteLossRejectsTheRoundNamingItAndWritesNoCheckpoint(@TempDir Path dir) {
        EpochPlan plan = new EpochPlan(samples(48), 5, 2, 2, 8);
        StateDict init = VitInit.random(CFG, 11);
        List<String> order = List.copyOf(VitLayout.parameterShapes(CFG).keySet());
        float[] p0 = ai.pela.zoo.train.Flat.flatten(init.asMap(), order).toFloatVector();
        ModelSpec spec = new ModelSpec(CFG, null, null, StepHyper.supervised(1e-2, 0.05, 0.1),
                new SerializableConf(sc.hadoopConfiguration()));
        Checkpoints ckpt = new Checkpoints(Storage.local(), Storage.path(dir.toString()), 2);
        ParameterAveraging pa = new ParameterAveraging(sc, spec, new ToySource(Double.NaN), plan,
                new ParameterAveraging.Settings(2, 2, 3, 1, 5), ckpt, new MetricsLog(Storage.local(), Storage.path(dir.toString()), 0));
        assertThatThrownBy(() -> pa.run(new TrainState(p0, new float[p0.length], new float[p0.length], 0, 0)))
                .isInstanceOf(PelaException.class).hasMessageContaining("round 0 rejected")
                .hasMessageContaining("'loss'");
        assertThat(ckpt.latest()).isEmpty();
    }
}
