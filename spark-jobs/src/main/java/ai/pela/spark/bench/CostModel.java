package ai.pela.spark.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The averaging cost of one round for a student of {@code params} parameters on N GPUs linked at {@code linkBytesPerS}
 * (written out in BENCHMARKS.md):
 * <ul>
 * <li>payload S = 3 · 4 · params bytes (parameters, AdamW m and v, FP32 — what the trainer ships);</li>
 * <li>broadcast (Spark's TorrentBroadcast relays 4 MB pieces between executors, so the driver's link carries about
 * one copy): S / link;</li>
 * <li>treeAggregate at depth 2: ⌈√N⌉ partial sums each receive ⌈√N⌉ results, then the driver receives ⌈√N⌉:
 * 2 · ⌈√N⌉ · S / link;</li>
 * <li>(de)serialisation of each copy at {@code serialBytesPerS}, the rate measured in local mode, where no network
 * is involved: (1 + 2 · ⌈√N⌉) · S / serial;</li>
 * <li>compute: k · batch / (images/s of one GPU).</li>
 * </ul>
 */
public record CostModel(long params, double linkBytesPerS, double serialBytesPerS, double gpuImagesPerS, int batch) {

    public record Point(int gpus, int k, double comm, double compute) {
        public double overhead() {
            return comm / (comm + compute);
        }
    }

    public double payload() {
        return 12.0 * params;
    }

    public Point at(int gpus, int k) {
        double copies = 1 + 2 * Math.ceil(Math.sqrt(gpus));
        double comm = copies * payload() / linkBytesPerS + copies * payload() / serialBytesPerS;
        return new Point(gpus, k, comm, k * batch / gpuImagesPerS);
    }

    /** The same round with only FP16 parameters exchanged by a ring all-reduce (2 · S' / link, S' = 2 · params). */
    public double ringFp16Params() {
        return 2 * 2.0 * params / linkBytesPerS;
    }

    public List<BenchRow> rows(int[] gpus, int[] ks, double load) {
        List<BenchRow> rows = new ArrayList<>();
        for (int n : gpus) {
            for (int k : ks) {
                Point p = at(n, k);
                rows.add(new BenchRow("costmodel", String.format("DeiT-B κ=2 student (%.1f M params), %d GPUs, %.0f Gb/s, k=%d, batch %d",
                        params / 1e6, n, linkBytesPerS * 8 / 1e9, k, batch), 100 * p.overhead(), Double.NaN, "% of round", load,
                        String.format("comm %.2f s (S = %.0f MB × %.0f copies) vs compute %.2f s at an assumed %.0f images/s/GPU; "
                                        + "ring all-reduce of FP16 params only: %.0f %%", p.comm(), payload() / 1e6,
                                1 + 2 * Math.ceil(Math.sqrt(n)), p.compute(), gpuImagesPerS,
                                100 * ringFp16Params() / (ringFp16Params() + p.compute()))));
            }
        }
        return rows;
    }
}
