package ai.pela.spark.data;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The driver's plan of which samples go where: a seeded shuffle per epoch, cut into rounds; in each round every
 * worker gets {@code k} consecutive minibatches of {@code batchSize} samples. Worker {@code w} of round {@code r}
 * takes the w-th contiguous block of {@code k·batchSize} samples from position {@code r·workers·k·batchSize} of the
 * epoch's order. The tail of an epoch that does not fill a round is dropped (like PyTorch's drop_last), so every
 * round has the same shape.
 *
 * <p>Everything is a pure function of (samples, seed, epoch, round): a restarted driver rebuilds the same plan, and a
 * retried task gets the same samples and the same augmentation seeds ({@link #sampleSeed}).
 *
 * <p>A run's place in its data is a {@link DataPosition} (samples consumed), not a round number: a round may start
 * at any sample of an epoch ({@link #slice}), so a run resumed under another plan — other workers, batch size or
 * k — continues at the sample where the checkpointed run stopped.
 */
public final class EpochPlan {
    private final List<Sample> samples;
    private final long seed;
    private final int workers;
    private final int localSteps;
    private final int batchSize;
    private final int rounds;
    /** The permutation of the last epoch asked for: rounds of one epoch are requested one after another. */
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    public EpochPlan(List<Sample> samples, long seed, int workers, int localSteps, int batchSize) {
        if (workers < 1 || localSteps < 1 || batchSize < 1) {
            throw new IllegalArgumentException("workers, local steps and batch size must be positive, got "
                    + workers + ", " + localSteps + ", " + batchSize);
        }
        this.samples = List.copyOf(samples);
        this.seed = seed;
        this.workers = workers;
        this.localSteps = localSteps;
        this.batchSize = batchSize;
        long perRound = samplesPerRound();
        this.rounds = (int) Math.min(Integer.MAX_VALUE, samples.size() / perRound);
        if (rounds == 0) {
            throw new PelaException("the dataset of " + samples.size() + " samples is too small for one round of "
                    + "workers × k × batch = " + workers + " × " + localSteps + " × " + batchSize + " = " + perRound
                    + " samples; use fewer workers, a smaller k or a smaller batch");
        }
    }

    /** workers × k × batchSize. */
    public long samplesPerRound() {
        return (long) workers * localSteps * batchSize;
    }

    /** floor(N / (workers·k·batch)): the remainder of each epoch is dropped. */
    public int roundsPerEpoch() {
        return rounds;
    }

    public int workers() {
        return workers;
    }

    public int localSteps() {
        return localSteps;
    }

    public int batchSize() {
        return batchSize;
    }

    /**
     * The epoch's order: the samples shuffled by {@code new Random(seed * 1_000_003 + epoch)} with the algorithm of
     * {@code Collections.shuffle} (so it equals {@code Collections.shuffle(copy, thatRandom)}). 1 000 003 is a prime
     * larger than any epoch count, so two epochs of one run never share a seed.
     */
    public List<Sample> order(int epoch) {
        int[] perm = permutation(epoch);
        List<Sample> out = new ArrayList<>(perm.length);
        for (int i : perm) {
            out.add(samples.get(i));
        }
        return out;
    }

    /** Per worker, k batches of batchSize samples (fresh, serialisable lists). */
    public List<List<List<Sample>>> round(int epoch, int round) {
        checkRound(round);
        return slice(new DataPosition(epoch, round * samplesPerRound()));
    }

    /** The round that starts at {@code at}: per worker, k batches of batchSize samples of the epoch's order. */
    public List<List<List<Sample>>> slice(DataPosition at) {
        if (!fits(at)) {
            throw new IndexOutOfBoundsException("a round of " + samplesPerRound() + " samples from sample " + at.samples()
                    + " does not fit the epoch's " + samples.size());
        }
        int[] perm = permutation(at.epoch());
        int base = Math.toIntExact(at.samples());
        List<List<List<Sample>>> perWorker = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            List<List<Sample>> batches = new ArrayList<>(localSteps);
            for (int step = 0; step < localSteps; step++) {
                int from = base + position(w, step, 0);
                List<Sample> batch = new ArrayList<>(batchSize);
                for (int i = 0; i < batchSize; i++) {
                    batch.add(samples.get(perm[from + i]));
                }
                batches.add(batch);
            }
            perWorker.add(batches);
        }
        return perWorker;
    }

    /** The position where this plan's rounds go on from {@code p}: p itself, or the next epoch's start. */
    public DataPosition normalise(DataPosition p) {
        return fits(p) ? p : new DataPosition(p.epoch() + 1, 0);
    }

    /** The position after the round that starts at {@code p} (the epoch's tail that fits no round is dropped). */
    public DataPosition after(DataPosition p) {
        return normalise(new DataPosition(p.epoch(), p.samples() + samplesPerRound()));
    }

    /** Where round {@code r} of a run under this plan starts (checkpoints from before positions were kept). */
    public DataPosition atRound(int r) {
        return new DataPosition(r / rounds, (r % rounds) * samplesPerRound());
    }

    /** The round number within its epoch of the round that starts at {@code p} (for the log and the metrics). */
    public int roundInEpoch(DataPosition p) {
        return (int) (p.samples() / samplesPerRound());
    }

    /** How many rounds of this plan run from {@code p} to the end of epoch {@code epochs - 1}. */
    public long roundsUntil(DataPosition p, int epochs) {
        DataPosition from = normalise(p);
        if (from.epoch() >= epochs) {
            return 0;
        }
        long leftInEpoch = (samples.size() - from.samples()) / samplesPerRound();
        return leftInEpoch + (long) (epochs - from.epoch() - 1) * rounds;
    }

    private boolean fits(DataPosition p) {
        return p.samples() + samplesPerRound() <= samples.size();
    }

    /**
     * The augmentation seed of the i-th sample of batch {@code step} of worker {@code worker} in a round: a hash of
     * the run seed, the epoch and the sample's position in the epoch, so it does not depend on which executor runs
     * the task, and a sample gets a different crop every epoch.
     */
    public long sampleSeed(int epoch, int round, int worker, int step, int i) {
        checkRound(round);
        if (worker < 0 || worker >= workers || step < 0 || step >= localSteps || i < 0 || i >= batchSize) {
            throw new IndexOutOfBoundsException("worker " + worker + ", step " + step + ", index " + i
                    + " outside the plan's " + workers + " × " + localSteps + " × " + batchSize);
        }
        long positionInEpoch = round * samplesPerRound() + position(worker, step, i);
        return mix(seed ^ mix(epoch * 0x9E3779B97F4A7C15L + positionInEpoch));
    }

    /** The seeds of one minibatch, in the order of {@link #round}'s batch. */
    public long[] batchSeeds(int epoch, int round, int worker, int step) {
        long[] seeds = new long[batchSize];
        for (int i = 0; i < batchSize; i++) {
            seeds[i] = sampleSeed(epoch, round, worker, step, i);
        }
        return seeds;
    }

    private int position(int worker, int step, int i) {
        return (worker * localSteps + step) * batchSize + i;
    }

    private void checkRound(int round) {
        if (round < 0 || round >= rounds) {
            throw new IndexOutOfBoundsException("round " + round + " outside 0.." + (rounds - 1));
        }
    }

    private synchronized int[] permutation(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("negative epoch " + epoch);
        }
        if (epoch != cachedEpoch) {
            cachedOrder = shuffle(samples.size(), new Random(seed * 1_000_003L + epoch));
            cachedEpoch = epoch;
        }
        return cachedOrder;
    }

    /** Collections.shuffle's loop on an index array. */
    private static int[] shuffle(int n, Random rnd) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n; i > 1; i--) {
            int j = rnd.nextInt(i);
            int t = a[i - 1];
            a[i - 1] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** SplitMix64's finaliser: spreads nearby inputs (consecutive positions) over all 64 bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
