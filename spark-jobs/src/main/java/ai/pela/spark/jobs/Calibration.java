package ai.pela.spark.jobs;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.CaptionBatchLoader;
import ai.pela.spark.data.ImageFolderSource;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.io.Storage;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.albef.AlbefCalibration;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.engine.Kernels;
import ai.pela.zoo.engine.ParamSet;
import ai.pela.zoo.engine.Swin;
import ai.pela.zoo.engine.Vit;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.lowrank.InputMoments;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.vit.VitLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The calibration pass of activation-aware SVD, on the driver: {@code n} training images, spread evenly over the
 * listing (which comes class by class), through the dense teacher with the evaluation transform (so the same
 * images give the same statistics on every start, and a resumed run rebuilds the same student); returns each
 * Linear's input RMS per channel ({@link InputMoments#scales}). For the ViT family and Swin (both on the engine),
 * and ALBEF (image-caption pairs, {@link AlbefCalibration}).
 */
public final class Calibration {
    private static final Logger LOG = LoggerFactory.getLogger(Calibration.class);
    private static final int BATCH = 32;

    private Calibration() {
    }

    /** The input statistics of a ViT-family teacher's Linears. */
    public static Map<String, INDArray> inputScales(Storage storage, List<Sample> samples, int n,
            ModelConfig teacherConfig, StateDict teacher, BadImagePolicy policy) {
        Vit vit = new Vit(teacherConfig, ParamSet.of(VitLayout.parameterShapes(teacherConfig), teacher, false),
                Kernels.forBackend());
        Map<Integer, Vit.Activations> buffers = new HashMap<>();
        return inputScales(storage, samples, n, DataSetup.Input.of(teacherConfig), vit::observeLinearInputs,
                images -> vit.forward(buffers.computeIfAbsent((int) images.size(0), vit::activations), images, null),
                policy);
    }

    /** The input statistics of a Swin teacher's Linears. */
    public static Map<String, INDArray> inputScales(Storage storage, List<Sample> samples, int n,
            SwinConfig teacherConfig, StateDict teacher, BadImagePolicy policy) {
        Swin swin = new Swin(teacherConfig, ParamSet.of(SwinLayout.parameterShapes(teacherConfig), teacher, false),
                Kernels.forBackend());
        Map<Integer, Swin.Activations> buffers = new HashMap<>();
        return inputScales(storage, samples, n, DataSetup.Input.of(teacherConfig), swin::observeLinearInputs,
                images -> swin.forward(buffers.computeIfAbsent((int) images.size(0), swin::activations), images, null),
                policy);
    }

    /**
     * The input statistics of a dense ALBEF teacher's Linears from {@code n} image-caption pairs: the images
     * through the evaluation transform, each sample's caption for epoch 0 of seed 0 (so a multi-caption sample
     * gives the same one on every start), tokenised as {@code text} says (padded to its maximum).
     */
    public static Map<String, INDArray> inputScales(Storage storage, List<Sample> samples, int n,
            AlbefConfig teacherConfig, StateDict teacher, CaptionBatchLoader.TextSpec text, BadImagePolicy policy) {
        if (text.padding() != BertTokenizer.Padding.MAX_LENGTH) {
            throw new IllegalArgumentException("ALBEF's graphs are built for one caption length: pad to the maximum");
        }
        List<Sample> picked = picked(samples, n);
        long start = System.nanoTime();
        AlbefCalibration calibration = new AlbefCalibration(teacherConfig, teacher, text.maxTokens());
        ModelConfig v = teacherConfig.vision();
        ImageTransform t = ImageTransform.eval(v.imgSize(), array(v.mean()), array(v.std()));
        int seen = 0;
        try (CaptionBatchLoader loader = new CaptionBatchLoader(storage, t, policy, 1, BertTokenizer.bertBaseUncased(),
                text)) {
            for (int i = 0; i < picked.size(); i += BATCH) {
                List<Sample> batch = picked.subList(i, Math.min(picked.size(), i + BATCH));
                CaptionBatchLoader.CaptionBatch b = loader.load(batch, new long[batch.size()], 0L, 0);
                if (b.size() > 0) {
                    calibration.observe(b.images(), b.text());
                    seen += b.size();
                }
            }
        }
        return done(calibration.scales(), picked.size(), seen, start);
    }

    private static Map<String, INDArray> inputScales(Storage storage, List<Sample> samples, int n,
            DataSetup.Input input, Consumer<Vit.InputObserver> observe, Consumer<INDArray> forward,
            BadImagePolicy policy) {
        List<Sample> picked = picked(samples, n);
        long start = System.nanoTime();
        InputMoments moments = new InputMoments();
        observe.accept(moments);
        ImageTransform t = ImageTransform.eval(input.imgSize(), array(input.mean()), array(input.std()));
        int seen = 0;
        try (BatchLoader loader = new BatchLoader(storage, t, policy)) {
            for (int i = 0; i < picked.size(); i += BATCH) {
                BatchLoader.Batch b = loader.load(picked.subList(i, Math.min(picked.size(), i + BATCH)));
                if (b.size() > 0) {
                    forward.accept(b.images());
                    seen += b.size();
                }
            }
        }
        return done(moments.scales(), picked.size(), seen, start);
    }

    /** The {@code n} calibration samples of a listing, which must not be empty. */
    private static List<Sample> picked(List<Sample> samples, int n) {
        if (samples.isEmpty()) {
            throw new PelaException("no calibration images: the listing is empty");
        }
        return spread(samples, n);
    }

    /** The scales of a finished pass, refused when no image of the {@code picked} could be read. */
    private static Map<String, INDArray> done(Map<String, INDArray> scales, int picked, int seen, long start) {
        if (seen == 0) {
            throw new PelaException("none of the " + picked + " calibration images could be read");
        }
        LOG.info("calibration: input statistics of {} Linears from {} images in {} s", scales.size(), seen,
                String.format("%.1f", (System.nanoTime() - start) / 1e9));
        return scales;
    }

    /** The images of an ImageNet-layout split folder ({@code dir/<class>/<image>}), e.g. {@code data/train}. */
    public static List<Sample> folder(Storage storage, String dir) {
        org.apache.hadoop.fs.Path p = Storage.path(dir);
        if (p.getParent() == null) {
            throw new PelaException(dir + ": give a split folder of class folders, e.g. data/train");
        }
        return new ImageFolderSource(storage, p.getParent().toString()).list(p.getName());
    }

    /** {@code n} samples at even steps through the listing (all of them when it has no more than {@code n}). */
    static List<Sample> spread(List<Sample> samples, int n) {
        if (n < 1) {
            throw new PelaException("calibration-images must be a positive integer, got " + n);
        }
        if (samples.size() <= n) {
            return samples;
        }
        List<Sample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(samples.get((int) ((long) i * samples.size() / n)));
        }
        return out;
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
