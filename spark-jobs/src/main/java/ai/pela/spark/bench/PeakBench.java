package ai.pela.spark.bench;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * (c) This machine's single-precision matrix-product peak: an n×n sgemm through ND4J (its bundled OpenBLAS),
 * alternating with torch.mm and numpy's matmul (Debian's OpenBLAS) in the reference process.
 */
public final class PeakBench {
    private PeakBench() {
    }

    /** ND4J's median GFLOP/s first, then the rows. */
    public record Result(double nd4jGflops, List<BenchRow> rows) {
    }

    public static Result run(int n, BenchSettings s) {
        INDArray a = Nd4j.randn(DataType.FLOAT, n, n);
        INDArray b = Nd4j.randn(DataType.FLOAT, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        Runnable gemm = () -> Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
        double flops = 2.0 * n * n * (double) n;
        try (TorchProcess ref = TorchProcess.start(s.python(), s.script(), s.threads(),
                List.of("--mode", "sgemm", "--n", Integer.toString(n)))) {
            for (int i = 0; i < s.warmup(); i++) {
                gemm.run();
            }
            double load0 = Machine.load();
            List<Double> numpyTimes = new java.util.ArrayList<>();
            List<List<Double>> t = Timing.alternate(s.rounds() * 2,
                    () -> Timing.repeat(s.reps(), gemm),
                    () -> {
                        var r = ref.time(s.reps());
                        for (double v : r.get("numpy")) {
                            numpyTimes.add(v);
                        }
                        return r.get("torch");
                    });
            double load = (load0 + Machine.load()) / 2;
            double ours = flops / Timing.median(t.get(0)) / 1e9;
            double torch = flops / Timing.median(t.get(1)) / 1e9;
            double numpy = flops / Timing.median(numpyTimes) / 1e9;
            String cfg = String.format("sgemm %d×%d×%d, %d threads", n, n, n, s.threads());
            String blas = ref.header().path("blas").toString();
            return new Result(ours, List.of(
                    new BenchRow("peak", cfg + " (reference: torch.mm)", ours, torch, "GFLOP/s", load, "PyTorch BLAS " + blas),
                    new BenchRow("peak", cfg + " (reference: numpy @)", ours, numpy, "GFLOP/s", load,
                            "numpy " + ref.header().path("numpy").asText())));
        } finally {
            a.close();
            b.close();
            c.close();
        }
    }
}
