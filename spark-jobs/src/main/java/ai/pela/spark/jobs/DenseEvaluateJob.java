package ai.pela.spark.jobs;

import ai.pela.spark.data.DenseTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.dense.CocoCache;
import ai.pela.spark.dense.DenseSources;
import ai.pela.spark.eval.Ade20kSource;
import ai.pela.spark.eval.Box;
import ai.pela.spark.eval.CocoDetection;
import ai.pela.spark.eval.CocoInstances;
import ai.pela.spark.eval.DetectionTally;
import ai.pela.spark.eval.SegHistogram;
import ai.pela.spark.eval.SegSample;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.Fingerprint;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.FcosConfig;
import ai.pela.zoo.dense.FcosDecoder;
import ai.pela.zoo.dense.FcosTargets;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.NativeMemory;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code evaluate --task ade20k | coco-detection}: a dense model's inference distributed over the executors. Each
 * partition loads the model once per executor, runs its images and fills its own {@link SegHistogram} or
 * {@link DetectionTally}; the driver merges them, which gives exactly the numbers of a single pass (see
 * ai.pela.spark.eval). Detections also come back to the driver for COCO's results file.
 */
public final class DenseEvaluateJob {
    /** ADE20K inference: the whole image letterboxed into one input, or sliding windows (mmseg's slide mode). */
    public enum SegMode { WHOLE, SLIDE }

    public record SegResult(SegHistogram histogram, double seconds) implements Serializable {
        public double imagesPerSecond() {
            return histogram.images() / Math.max(1e-9, seconds);
        }
    }

    public record DetResult(DetectionTally tally, List<CocoDetection> detections, double seconds) implements Serializable {
        public double imagesPerSecond() {
            return tally.images() / Math.max(1e-9, seconds);
        }
    }

    private static final Map<String, DenseModel> MODELS = new ConcurrentHashMap<>();

    private DenseEvaluateJob() {
    }

    // ------------------------------------------------------------------------------------------- segmentation

    public static SegResult segmentation(JavaSparkContext sc, DenseFiles.DenseRef ref, List<SegSample> samples,
            SegMode mode, int stride, int batchSize, int partitions) {
        long t0 = System.nanoTime();
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        int classes = ref.head().numClasses();
        List<List<SegSample>> chunks = chunks(samples, mode == SegMode.WHOLE ? batchSize : 1);
        SegHistogram h = sc.parallelize(chunks, Math.max(1, Math.min(partitions, chunks.size())))
                .mapPartitions(it -> {
                    Storage storage = hadoop.storage();
                    DenseModel model = model(storage, ref);
                    SegHistogram acc = new SegHistogram(classes);
                    while (it.hasNext()) {
                        List<SegSample> chunk = it.next();
                        if (mode == SegMode.WHOLE) {
                            whole(model, storage, chunk, acc);
                        } else {
                            slide(model, storage, chunk.get(0), stride, batchSize, acc);
                        }
                        NativeMemory.release();
                    }
                    return List.of(acc).iterator();
                })
                .reduce(SegHistogram::merge);
        return new SegResult(h, (System.nanoTime() - t0) / 1e9);
    }

    private static void whole(DenseModel model, Storage storage, List<SegSample> chunk, SegHistogram acc) {
        DenseTransform t = transform(model);
        int s = t.size();
        float[] pixels = new float[chunk.size() * t.floatsPerImage()];
        List<Ade20kSource.Example> examples = new ArrayList<>();
        List<DenseTransform.Geometry> geometries = new ArrayList<>();
        for (SegSample sample : chunk) {
            Ade20kSource.Example ex = Ade20kSource.load(storage, sample);
            DenseTransform.Geometry g = t.letterbox(ex.image().getWidth(), ex.image().getHeight());
            t.image(ex.image(), g, pixels, examples.size() * t.floatsPerImage());
            examples.add(ex);
            geometries.add(g);
        }
        INDArray logits = model.forward(DenseSources.images(pixels, chunk.size(), s)).get(DenseModel.SEG_LOGITS);
        float[] all = logits.dup('c').data().asFloat();
        int k = model.head().numClasses();
        for (int i = 0; i < examples.size(); i++) {
            DenseTransform.Geometry g = geometries.get(i);
            int[] pred = SegPrediction.argmax(all, (long) i * k * s * s, k, s, s, g.outW(), g.outH(), g.srcW(), g.srcH());
            add(acc, pred, examples.get(i));
        }
    }

    /** mmseg's slide_inference: windows of size s at the given stride, logits averaged where windows overlap. */
    private static void slide(DenseModel model, Storage storage, SegSample sample, int stride, int batchSize,
            SegHistogram acc) {
        DenseTransform t = transform(model);
        int s = t.size();
        int k = model.head().numClasses();
        Ade20kSource.Example ex = Ade20kSource.load(storage, sample);
        int w = ex.image().getWidth();
        int h = ex.image().getHeight();
        int[] out = t.slideSize(w, h);
        List<int[]> windows = SegPrediction.windows(out[0], out[1], s, stride);
        float[] sum = new float[k * out[0] * out[1]];
        int[] count = new int[out[0] * out[1]];
        for (int from = 0; from < windows.size(); from += batchSize) {
            List<int[]> part = windows.subList(from, Math.min(windows.size(), from + batchSize));
            float[] pixels = new float[part.size() * t.floatsPerImage()];
            for (int i = 0; i < part.size(); i++) {
                t.image(ex.image(), t.window(w, h, part.get(i)[0], part.get(i)[1]), pixels, i * t.floatsPerImage());
            }
            INDArray logits = model.forward(DenseSources.images(pixels, part.size(), s)).get(DenseModel.SEG_LOGITS);
            SegPrediction.accumulate(logits.dup('c').data().asFloat(), part, k, s, out[0], out[1], sum, count);
        }
        SegPrediction.divide(sum, count, k);
        add(acc, SegPrediction.argmax(sum, 0, k, out[1], out[0], out[0], out[1], w, h), ex);
    }

    private static void add(SegHistogram acc, int[] pred, Ade20kSource.Example ex) {
        try {
            acc.add(pred, ex.label().labels());
        } catch (IllegalArgumentException e) {
            throw new PelaException(ex.sample().annotation() + ": " + e.getMessage() + " (the head has "
                    + acc.numClasses() + " classes)", e);
        }
    }

    // ---------------------------------------------------------------------------------------------- detection

    public static DetResult detection(JavaSparkContext sc, DenseFiles.DenseRef ref, String annotations,
            String imagesDir, int batchSize, int partitions) {
        long t0 = System.nanoTime();
        SerializableConf hadoop = new SerializableConf(sc.hadoopConfiguration());
        CocoInstances gt = CocoInstances.read(hadoop.storage(), annotations);
        List<Long> ids = new ArrayList<>();
        for (long id : gt.imageIds()) {
            ids.add(id);
        }
        int[] categories = gt.categoryIds();
        String dir = imagesDir.endsWith("/") ? imagesDir.substring(0, imagesDir.length() - 1) : imagesDir;
        List<List<Long>> chunks = chunks(ids, batchSize);
        DetResult r = sc.parallelize(chunks, Math.max(1, Math.min(partitions, chunks.size())))
                .mapPartitions(it -> {
                    Storage storage = hadoop.storage();
                    DenseModel model = model(storage, ref);
                    CocoInstances coco = CocoCache.get(storage, annotations);
                    DetectionTally tally = new DetectionTally(categories);
                    List<CocoDetection> dets = new ArrayList<>();
                    while (it.hasNext()) {
                        detect(model, storage, coco, dir, it.next(), tally, dets);
                        NativeMemory.release();
                    }
                    return List.of(new DetResult(tally, dets, 0)).iterator();
                })
                .reduce((a, b) -> {
                    List<CocoDetection> d = new ArrayList<>(a.detections());
                    d.addAll(b.detections());
                    return new DetResult(a.tally().merge(b.tally()), d, 0);
                });
        return new DetResult(r.tally(), r.detections(), (System.nanoTime() - t0) / 1e9);
    }

    private static void detect(DenseModel model, Storage storage, CocoInstances coco, String dir, List<Long> ids,
            DetectionTally tally, List<CocoDetection> out) {
        DenseTransform t = transform(model);
        FcosConfig head = (FcosConfig) model.head();
        float[] pixels = new float[ids.size() * t.floatsPerImage()];
        List<DenseTransform.Geometry> geometries = new ArrayList<>();
        for (long id : ids) {
            CocoInstances.Image img = coco.image(id);
            java.awt.image.BufferedImage bi = DenseSources.decode(storage, Sample.file(dir + "/" + img.fileName(), 0));
            DenseTransform.Geometry g = t.letterbox(bi.getWidth(), bi.getHeight());
            t.image(bi, g, pixels, geometries.size() * t.floatsPerImage());
            geometries.add(g);
        }
        Map<String, INDArray> o = model.forward(DenseSources.images(pixels, ids.size(), t.size()));
        float[] cls = o.get("fcos.cls").dup('c').data().asFloat();
        float[] reg = o.get("fcos.reg").dup('c').data().asFloat();
        float[] ctr = o.get("fcos.ctr").dup('c').data().asFloat();
        FcosTargets.Points pts = FcosTargets.points(head, model.backbone());
        int p = pts.size();
        int k = head.numClasses();
        for (int i = 0; i < ids.size(); i++) {
            DenseTransform.Geometry g = geometries.get(i);
            List<FcosDecoder.Detection> d = FcosDecoder.decode(
                    java.util.Arrays.copyOfRange(cls, i * p * k, (i + 1) * p * k),
                    java.util.Arrays.copyOfRange(reg, i * p * 4, (i + 1) * p * 4),
                    java.util.Arrays.copyOfRange(ctr, i * p, (i + 1) * p), pts, head, g.outW(), g.outH());
            List<CocoDetection> dets = new ArrayList<>();
            for (FcosDecoder.Detection x : d) {
                double x1 = x.x1() / g.scaleX();
                double y1 = x.y1() / g.scaleY();
                Box box = new Box(x1, y1, x.x2() / g.scaleX() - x1, x.y2() / g.scaleY() - y1);
                dets.add(new CocoDetection(ids.get(i), head.categoryIds().get(x.label()), box, x.score()));
            }
            tally.add(ids.get(i), coco.annotationsOf(ids.get(i)), dets);
            out.addAll(dets);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static DenseModel model(Storage storage, DenseFiles.DenseRef ref) {
        // One model per executor and checkpoint; inference on a SameDiff graph is safe from several threads.
        return MODELS.computeIfAbsent(ref.weights() + "|" + Fingerprint.of(ref.head(), ref.backbone()), k -> {
            StateDict sd = DenseFiles.readWeights(storage, ref);
            return DenseModel.create(ref.backbone(), ref.head(), sd, ref.weights());
        });
    }

    private static DenseTransform transform(DenseModel m) {
        return new DenseTransform(m.head().imgSize(), HeadTrainJob.array(m.backbone().mean()),
                HeadTrainJob.array(m.backbone().std()), 1, 1);
    }

    static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) {
            out.add(List.copyOf(items.subList(i, Math.min(items.size(), i + size))));
        }
        return out;
    }
}
