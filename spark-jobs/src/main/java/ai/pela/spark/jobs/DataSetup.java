package ai.pela.spark.jobs;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.ImageFolderSource;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.data.WebDatasetSource;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.BatchSource;
import ai.pela.spark.train.LoadedBatch;
import ai.pela.spark.train.Recipe;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The driver's side of the data: lists the samples of a split once (failing before any executor work when the
 * data is missing or malformed) and makes the executor-side loader that reads, decodes, augments and
 * normalises them.
 */
public record DataSetup(List<Sample> train, BatchSource source) {

    public static DataSetup forTraining(Storage storage, Recipe recipe, ModelConfig model) {
        List<Sample> samples = list(storage, recipe, model, recipe.string("data.train-split"), true);
        int limit = recipe.integer("data.limit");
        if (limit > 0 && limit < samples.size()) {
            samples = List.copyOf(samples.subList(0, limit));
        }
        List<Double> scale = recipe.numbers("data.crop-scale");
        if (scale.size() != 2 || !(scale.get(0) > 0) || scale.get(0) > scale.get(1) || scale.get(1) > 1) {
            throw new PelaException("configuration key 'pela.data.crop-scale' must be [min, max] with 0 < min <= max <= 1, got " + scale);
        }
        ImageTransform t = ImageTransform.train(model.imgSize(), array(model.mean()), array(model.std()),
                scale.get(0), scale.get(1));
        if (!recipe.flag("data.hflip")) {
            t = t.withoutFlip();
        }
        return new DataSetup(samples, new ImageBatchSource(new SerializableConf(storage.conf()), t, policy(recipe)));
    }

    public static DataSetup forEvaluation(Storage storage, Recipe recipe, ModelConfig model, String split) {
        List<Sample> samples = list(storage, recipe, model, split, false);
        ImageTransform t = ImageTransform.eval(model.imgSize(), array(model.mean()), array(model.std()));
        return new DataSetup(samples, new ImageBatchSource(new SerializableConf(storage.conf()), t, policy(recipe)));
    }

    private static BadImagePolicy policy(Recipe recipe) {
        try {
            return BadImagePolicy.parse(recipe.string("data.on-bad-image"));
        } catch (IllegalArgumentException | PelaException e) {
            throw new PelaException("configuration key 'pela.data.on-bad-image': " + e.getMessage(), e);
        }
    }

    private static List<Sample> list(Storage storage, Recipe recipe, ModelConfig model, String split, boolean train) {
        String format = recipe.string("data.format");
        List<Sample> samples;
        int classes;
        switch (format) {
            case "imagefolder" -> {
                String root = recipe.string("data.root");
                if (root.isBlank()) {
                    throw new PelaException("configuration key 'pela.data.root' is not set: give the ImageNet-layout root");
                }
                ImageFolderSource src = new ImageFolderSource(storage, root);
                samples = src.list(split);
                classes = src.classes(split).size();
                String trainSplit = recipe.string("data.train-split");
                if (!train && !split.equals(trainSplit) && storage.exists(Storage.path(root + "/" + trainSplit))) {
                    // Class index = position in the sorted folder list: only valid if both splits have the same classes.
                    src.checkSameClasses(trainSplit, split);
                }
            }
            case "webdataset" -> {
                String spec = recipe.string(train ? "data.train-shards" : "data.val-shards");
                if (spec.isBlank()) {
                    throw new PelaException("configuration key 'pela.data." + (train ? "train" : "val")
                            + "-shards' is not set: give the tar shards, e.g. root/shard-{000000..000099}.tar");
                }
                WebDatasetSource.Listing l = new WebDatasetSource(storage, spec).list(model.numClasses());
                samples = l.samples();
                classes = l.numClasses();
            }
            default -> throw new PelaException("configuration key 'pela.data.format' must be imagefolder or webdataset, got '"
                    + format + "'" + (format.startsWith("albef") || format.equals("karpathy")
                    ? " (image-text formats train an ALBEF: pela.model.config must be an ALBEF config.json)" : ""));
        }
        if (classes > model.numClasses()) {
            throw new PelaException("the data has " + classes + " classes but the model's head has " + model.numClasses());
        }
        return samples;
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Executor-side loading through BatchLoader; per-image seeds are drawn from the batch's seed. */
    static final class ImageBatchSource implements BatchSource {
        private static final long serialVersionUID = 1L;
        private final SerializableConf hadoop;
        private final ImageTransform transform;
        private final BadImagePolicy policy;

        ImageBatchSource(SerializableConf hadoop, ImageTransform transform, BadImagePolicy policy) {
            this.hadoop = hadoop;
            this.transform = transform;
            this.policy = policy;
        }

        @Override
        public LoadedBatch load(List<Sample> samples, long seed) {
            long[] seeds = new long[samples.size()];
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = rng.nextLong();
            }
            try (BatchLoader loader = new BatchLoader(hadoop.storage(), transform, policy)) {
                BatchLoader.Batch b = loader.load(samples, seeds);
                return new LoadedBatch(b.images(), b.labels(), b.skipped());
            }
        }
    }
}
