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
 * The ring exchange ({@code train.exchange = ring}) broadcasts nothing in the steady state and sends nothing big to
 * the driver: per round each link carries 2 · (N−1)/N · P · w bytes (reduce-scatter + all-gather of the parameter
 * changes, w = 4 for FP32, 2 for BF16 on the wire). On checkpoint rounds, every {@code checkpointEvery} rounds, the
 * two moments are all-reduced too and rank 0 sends parameters and moments (12 · P bytes, FP32) to the driver,
 * serialised as a byte[] ({@code packedSerialBytesPerS}); amortised over the rounds between checkpoints.
 * Both exchanges also pay {@code roundLatencyS} per round whatever the bytes: scheduling the stage's tasks and
 * collecting their results, measured by the averaging benchmark in local mode (the aggregate time of a 1 MB model).
 */
public record CostModel(long params, double linkBytesPerS, double serialBytesPerS, double packedSerialBytesPerS,
        double gpuImagesPerS, int batch, double roundLatencyS) {

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
        double comm = roundLatencyS + copies * payload() / linkBytesPerS + copies * payload() / serialBytesPerS;
        return new Point(gpus, k, comm, k * batch / gpuImagesPerS);
    }

    /** Communication seconds per round of the ring exchange with {@code wireBytes} per value, amortised over checkpoints. */
    public double ringComm(int gpus, int wireBytes, int checkpointEvery) {
        double p = params;
        double ring = 2.0 * (gpus - 1) / gpus * p * wireBytes / linkBytesPerS;
        double checkpoint = 2 * ring + 12 * p / linkBytesPerS + 12 * p / packedSerialBytesPerS;
        return roundLatencyS + ring + checkpoint / checkpointEvery;
    }

    public Point ring(int gpus, int k, int wireBytes, int checkpointEvery) {
        return new Point(gpus, k, ringComm(gpus, wireBytes, checkpointEvery), k * batch / gpuImagesPerS);
    }

    /**
     * One row per exchange and GPU count at the largest k (the goal's configuration); the note gives the other ks.
     * {@code checkpointEvery}: rounds between checkpoints, over which the ring's moment averaging is amortised.
     */
    public List<BenchRow> rows(int[] gpus, int[] ks, int checkpointEvery, double load) {
        List<BenchRow> rows = new ArrayList<>();
        int kMax = ks[ks.length - 1];
        String[] names = {"tree (FP32 params + moments via treeAggregate)", "ring, FP32 wire", "ring, BF16 wire"};
        for (int e = 0; e < names.length; e++) {
            for (int n : gpus) {
                StringBuilder others = new StringBuilder();
                Point top = null;
                for (int k : ks) {
                    Point pt = e == 0 ? at(n, k) : ring(n, k, e == 1 ? 4 : 2, checkpointEvery);
                    if (k == kMax) {
                        top = pt;
                    } else {
                        others.append(String.format("k=%d: %.1f %%; ", k, 100 * pt.overhead()));
                    }
                }
                String how = e == 0
                        ? String.format("S = %.0f MB × %.0f copies", payload() / 1e6, 1 + 2 * Math.ceil(Math.sqrt(n)))
                        : String.format("ring 2(N-1)/N × %.0f MB per link; moments + %.0f MB state to the driver every"
                                + " %d rounds", params * (e == 1 ? 4 : 2) / 1e6, 12 * params / 1e6, checkpointEvery);
                rows.add(new BenchRow("costmodel", String.format("DeiT-B κ=2 student (%.1f M params), %d GPUs, %.0f Gb/s, k=%d, %s",
                        params / 1e6, n, linkBytesPerS * 8 / 1e9, kMax, names[e]), 100 * top.overhead(), Double.NaN,
                        "% of round", load, String.format("comm %.3f s (%.3f s per-round latency + %s) vs compute %.2f s at"
                                + " an assumed %.0f images/s/GPU, batch %d; %s", top.comm(), roundLatencyS, how, top.compute(),
                                gpuImagesPerS, batch, others.toString().trim())));
            }
        }
        return rows;
    }
}
