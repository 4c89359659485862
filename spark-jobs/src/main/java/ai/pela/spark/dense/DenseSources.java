package ai.pela.spark.dense;

import ai.pela.spark.data.BadImageException;
import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.DenseTransform;
import ai.pela.spark.data.ImageDecoder;
import ai.pela.spark.data.Sample;
import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.CocoInstances;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.dense.DetBatch;
import ai.pela.zoo.dense.GtBox;
import ai.pela.zoo.dense.SegBatch;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executor-side training batches of the dense tasks: each sample's image and targets read, transformed with one
 * geometry (so label maps and boxes follow the pixels) and normalised. A sample's randomness comes from the batch
 * seed and its place in the batch only, so a retried task sees the same batch.
 */
public final class DenseSources {
    private static final Logger LOG = LoggerFactory.getLogger(DenseSources.class);

    private DenseSources() {
    }

    /** ADE20K batches: samples are images listed by {@link Ade20kSource#list}; labels after reduce_zero_label. */
    public static final class Segmentation implements BatchSource {
        private static final long serialVersionUID = 1L;
        private final SerializableConf hadoop;
        private final DenseTransform transform;
        private final BadImagePolicy policy;

        public Segmentation(SerializableConf hadoop, DenseTransform transform, BadImagePolicy policy) {
            this.hadoop = hadoop;
            this.transform = transform;
            this.policy = policy;
        }

        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            Storage storage = hadoop.storage();
            SplittableRandom rng = new SplittableRandom(seed);
            int per = transform.floatsPerImage();
            int side = transform.size() * transform.size();
            float[] pixels = new float[samples.size() * per];
            int[] labels = new int[samples.size() * side];
            List<String> skipped = new ArrayList<>();
            int n = 0;
            for (Sample s : samples) {
                SplittableRandom own = rng.split();
                try {
                    Ade20kSource.Example ex = Ade20kSource.load(storage, Ade20kSource.pairOf(s.uri()));
                    BufferedImage img = ex.image();
                    DenseTransform.Geometry g = transform.train(img.getWidth(), img.getHeight(), own);
                    transform.image(img, g, pixels, n * per);
                    System.arraycopy(transform.labels(ex.label().labels(), g, SegBatch.IGNORE), 0, labels, n * side, side);
                    n++;
                } catch (PelaException e) {
                    skip(policy, skipped, s, e);
                }
            }
            return new LoadedBatch(new SegBatch(images(pixels, n, transform.size()),
                    java.util.Arrays.copyOf(labels, n * side)), skipped);
        }
    }

    /** COCO batches: a sample's label is its image's index in the instances file; crowd regions are not trained on. */
    public static final class Detection implements BatchSource {
        private static final long serialVersionUID = 1L;
        private final SerializableConf hadoop;
        private final DenseTransform transform;
        private final BadImagePolicy policy;
        private final String annotations;
        private final List<Integer> categoryIds;

        public Detection(SerializableConf hadoop, DenseTransform transform, BadImagePolicy policy, String annotations,
                List<Integer> categoryIds) {
            this.hadoop = hadoop;
            this.transform = transform;
            this.policy = policy;
            this.annotations = annotations;
            this.categoryIds = List.copyOf(categoryIds);
        }

        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            Storage storage = hadoop.storage();
            CocoInstances coco = CocoCache.get(storage, annotations);
            List<CocoInstances.Image> images = coco.images();
            Map<Integer, Integer> classOf = classIndex(categoryIds);
            SplittableRandom rng = new SplittableRandom(seed);
            int per = transform.floatsPerImage();
            float[] pixels = new float[samples.size() * per];
            List<List<GtBox>> boxes = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            for (Sample s : samples) {
                SplittableRandom own = rng.split();
                try {
                    BufferedImage img = decode(storage, s);
                    DenseTransform.Geometry g = transform.train(img.getWidth(), img.getHeight(), own);
                    transform.image(img, g, pixels, boxes.size() * per);
                    boxes.add(gtBoxes(coco.annotationsOf(images.get(s.label()).id()), g, classOf));
                } catch (PelaException e) {
                    skip(policy, skipped, s, e);
                }
            }
            return new LoadedBatch(new DetBatch(images(pixels, boxes.size(), transform.size()), boxes), skipped);
        }
    }

    static Map<Integer, Integer> classIndex(List<Integer> categoryIds) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int i = 0; i < categoryIds.size(); i++) {
            m.put(categoryIds.get(i), i);
        }
        return m;
    }

    /** The image's non-crowd boxes on the canvas, with their class index. */
    static List<GtBox> gtBoxes(List<CocoInstances.Annotation> anns, DenseTransform.Geometry g, Map<Integer, Integer> classOf) {
        List<GtBox> out = new ArrayList<>();
        for (CocoInstances.Annotation a : anns) {
            Integer cls = classOf.get(a.categoryId());
            if (a.crowd() || cls == null) {
                continue;
            }
            double[] b = DenseTransform.box(a.bbox().x(), a.bbox().y(), a.bbox().x() + a.bbox().w(),
                    a.bbox().y() + a.bbox().h(), g);
            if (b != null) {
                out.add(new GtBox(b[0], b[1], b[2], b[3], cls));
            }
        }
        return out;
    }

    public static BufferedImage decode(Storage storage, Sample s) {
        try {
            return ImageDecoder.decode(storage.readAll(Storage.path(s.uri()), BatchLoader.MAX_IMAGE_BYTES));
        } catch (BadImageException e) {
            throw new PelaException(s.uri() + ": " + e.getMessage(), e);
        }
    }

    private static void skip(BadImagePolicy policy, List<String> skipped, Sample s, PelaException e) {
        if (policy == BadImagePolicy.FAIL) {
            throw e;
        }
        LOG.warn("skipping {}: {}", s.name(), e.getMessage());
        skipped.add(s.location());
    }

    public static org.nd4j.linalg.api.ndarray.INDArray images(float[] pixels, int n, int size) {
        float[] used = n * 3 * size * size == pixels.length ? pixels : java.util.Arrays.copyOf(pixels, n * 3 * size * size);
        return Nd4j.create(used, new long[] {n, 3, size, size}, 'c');
    }
}
