package ai.pela.spark.data;

import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import java.awt.image.BufferedImage;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executor side of the input pipeline: reads, decodes and transforms the samples of one minibatch into a
 * single float32 NCHW array. Each sample's augmentation draws from its own {@link SplittableRandom} seeded by the
 * caller, so a batch's pixels depend only on the plan, never on threads, executors or retries.
 *
 * <p>A bad image (unreadable, corrupt, truncated, too large) is handled by the {@link BadImagePolicy}: SKIP leaves it
 * out of the batch, logs it at WARN and lists it in {@link Batch#skipped()}; FAIL throws a {@link PelaException}
 * naming the file and the reason. With {@code threads > 1} the images of a batch are decoded in parallel; call
 * {@link #close()} to stop those threads.
 */
public final class BatchLoader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchLoader.class);
    /** Images larger than this are refused before they are read into memory. */
    public static final int MAX_IMAGE_BYTES = WebDatasetSource.MAX_IMAGE_BYTES;

    /**
     * A minibatch: images [n, 3, H, W] float32 C order, their labels, the locations of images left out, and for
     * each image of the batch its position in the requested samples (so whatever else a sample carries, such as
     * its captions, can be lined up with the images that survived).
     */
    public record Batch(INDArray images, int[] labels, List<String> skipped, int[] kept) {
        public int size() {
            return labels.length;
        }
    }

    private final Storage storage;
    private final ImageTransform transform;
    private final BadImagePolicy policy;
    private final int threads;
    private ExecutorService pool;

    public BatchLoader(Storage storage, ImageTransform transform, BadImagePolicy policy) {
        this(storage, transform, policy, 1);
    }

    public BatchLoader(Storage storage, ImageTransform transform, BadImagePolicy policy, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.storage = storage;
        this.transform = transform;
        this.policy = policy;
        this.threads = threads;
    }

    /** Loads a batch for evaluation, where the transform draws no random numbers. */
    public Batch load(List<Sample> samples) {
        return load(samples, new long[samples.size()]);
    }

    /** Loads a batch; {@code seeds[i]} seeds the augmentation of {@code samples.get(i)}. */
    public Batch load(List<Sample> samples, long[] seeds) {
        if (seeds.length != samples.size()) {
            throw new IllegalArgumentException(seeds.length + " seeds for " + samples.size() + " samples");
        }
        int per = transform.floatsPerImage();
        if ((long) samples.size() * per > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a batch of " + samples.size() + " images of " + per
                    + " floats does not fit one Java array");
        }
        float[] data = new float[samples.size() * per];
        String[] errors = decodeAll(samples, seeds, data, per);
        return assemble(samples, errors, data, per);
    }

    private String[] decodeAll(List<Sample> samples, long[] seeds, float[] data, int per) {
        String[] errors = new String[samples.size()];
        Runnable work = worker(samples, seeds, data, per, errors, new AtomicInteger());
        if (threads == 1 || samples.size() < 2) {
            work.run();
            return errors;
        }
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < Math.min(threads, samples.size()); t++) {
            running.add(pool().submit(work));
        }
        for (Future<?> f : running) {
            await(f);
        }
        return errors;
    }

    /** Takes sample indices from a shared counter until none are left; each index writes only its own slice. */
    private Runnable worker(List<Sample> samples, long[] seeds, float[] data, int per, String[] errors,
            AtomicInteger next) {
        return () -> {
            for (int i = next.getAndIncrement(); i < samples.size(); i = next.getAndIncrement()) {
                errors[i] = loadOne(samples.get(i), seeds[i], data, i * per);
            }
        };
    }

    /** Loads one sample into its slice; returns null, or why the image is bad. */
    private String loadOne(Sample s, long seed, float[] data, int offset) {
        try {
            BufferedImage img = ImageDecoder.decode(readBytes(storage, s));
            transform.apply(img, new SplittableRandom(seed), data, offset);
            return null;
        } catch (BadImageException e) {
            return e.getMessage();
        }
    }

    private Batch assemble(List<Sample> samples, String[] errors, float[] data, int per) {
        List<String> skipped = new ArrayList<>();
        List<Integer> kept = new ArrayList<>(samples.size());
        for (int i = 0; i < samples.size(); i++) {
            if (errors[i] == null) {
                kept.add(i);
                continue;
            }
            Sample s = samples.get(i);
            if (policy == BadImagePolicy.FAIL) {
                throw new PelaException(s.location() + ": bad image: " + errors[i]);
            }
            LOG.warn("Skipping bad image {}: {}", s.location(), errors[i]);
            skipped.add(s.location());
        }
        int[] labels = kept.stream().mapToInt(i -> samples.get(i).label()).toArray();
        float[] packed = skipped.isEmpty() ? data : compact(data, kept, per);
        long[] shape = {labels.length, 3, transform.imgSize(), transform.imgSize()};
        int[] positions = kept.stream().mapToInt(Integer::intValue).toArray();
        return new Batch(Nd4j.create(packed, shape, DataType.FLOAT), labels, List.copyOf(skipped), positions);
    }

    private static float[] compact(float[] data, List<Integer> kept, int per) {
        float[] out = new float[kept.size() * per];
        for (int k = 0; k < kept.size(); k++) {
            System.arraycopy(data, kept.get(k) * per, out, k * per, per);
        }
        return out;
    }

    /** One augmentation seed per image, drawn in order from the batch's seed (so a batch re-runs identically). */
    public static long[] imageSeeds(int images, long batchSeed) {
        long[] seeds = new long[images];
        SplittableRandom rng = new SplittableRandom(batchSeed);
        for (int i = 0; i < seeds.length; i++) {
            seeds[i] = rng.nextLong();
        }
        return seeds;
    }

    /**
     * The encoded bytes of a sample: a whole file, or one member of a tar shard read with a seek. Every way the
     * read can fail (missing file, I/O error, a shard shorter than its index says) is a bad image.
     */
    public static byte[] readBytes(Storage storage, Sample s) throws BadImageException {
        try {
            if (s.wholeFile()) {
                return storage.readAll(Storage.path(s.uri()), MAX_IMAGE_BYTES);
            }
            return readRange(storage, s);
        } catch (PelaException | UncheckedIOException e) {
            throw new BadImageException("cannot read: " + e.getMessage(), e);
        }
    }

    private static byte[] readRange(Storage storage, Sample s) throws BadImageException {
        if (s.length() > MAX_IMAGE_BYTES) {
            throw new BadImageException("member of " + s.length() + " bytes exceeds the limit of " + MAX_IMAGE_BYTES);
        }
        byte[] data = new byte[(int) s.length()];
        try (FSDataInputStream in = storage.open(Storage.path(s.uri()))) {
            in.seek(s.offset());
            in.readFully(data);
            return data;
        } catch (EOFException e) {
            throw new BadImageException("truncated: the shard ends before byte " + (s.offset() + s.length()), e);
        } catch (IOException e) {
            throw new BadImageException("cannot read: " + e, e);
        }
    }

    private synchronized ExecutorService pool() {
        if (pool == null) {
            AtomicInteger n = new AtomicInteger();
            pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "pela-decode-" + n.incrementAndGet());
                t.setDaemon(true); // never keeps an executor JVM alive
                return t;
            });
        }
        return pool;
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding a batch", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.shutdownNow();
            pool = null;
        }
    }
}
