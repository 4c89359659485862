package ai.pela.spark.jobs;

import ai.pela.spark.config.DataSettings;
import ai.pela.spark.data.ImageFolderSource;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.Sample;
import ai.pela.spark.data.WebDatasetSource;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Storage;
import ai.pela.spark.train.BatchSource;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.swin.SwinConfig;
import java.util.List;

/**
 * The driver's side of the data: lists the samples of a split once (failing before any executor work when the
 * data is missing or malformed) and makes the executor-side loader that reads, decodes, augments and
 * normalises them.
 */
public record DataSetup(List<Sample> train, BatchSource source) {

    /** What the data side needs of an image classifier, whichever family it is. */
    public record Input(int imgSize, List<Double> mean, List<Double> std, int numClasses) {
        public static Input of(ModelConfig c) {
            return new Input(c.imgSize(), c.mean(), c.std(), c.numClasses());
        }

        public static Input of(SwinConfig c) {
            return new Input(c.imgSize(), c.mean(), c.std(), c.numClasses());
        }
    }

    public static DataSetup forTraining(Storage storage, DataSettings data, ModelConfig model) {
        return forTraining(storage, data, Input.of(model));
    }

    public static DataSetup forEvaluation(Storage storage, DataSettings data, ModelConfig model, String split) {
        return forEvaluation(storage, data, Input.of(model), split);
    }

    public static DataSetup forTraining(Storage storage, DataSettings data, Input model) {
        List<Sample> samples = data.limited(list(storage, data, model, data.trainSplit(), true));
        double[] scale = data.checkedCropScale();
        ImageTransform t = ImageTransform.train(model.imgSize(), array(model.mean()), array(model.std()), scale[0],
                scale[1]);
        if (!data.hflip()) {
            t = t.withoutFlip();
        }
        return new DataSetup(samples, new ImageBatchSource(new SerializableConf(storage.conf()), t,
                data.badImagePolicy()));
    }

    public static DataSetup forEvaluation(Storage storage, DataSettings data, Input model, String split) {
        List<Sample> samples = list(storage, data, model, split, false);
        ImageTransform t = ImageTransform.eval(model.imgSize(), array(model.mean()), array(model.std()));
        return new DataSetup(samples, new ImageBatchSource(new SerializableConf(storage.conf()), t,
                data.badImagePolicy()));
    }

    private static List<Sample> list(Storage storage, DataSettings data, Input model, String split,
            boolean train) {
        String format = data.format();
        List<Sample> samples;
        int classes;
        switch (format) {
            case "imagefolder" -> {
                String root = data.root();
                if (root.isBlank()) {
                    throw new PelaException("configuration key 'pela.data.root' is not set: give the ImageNet-layout root");
                }
                ImageFolderSource src = new ImageFolderSource(storage, root);
                samples = src.list(split);
                classes = src.classes(split).size();
                String trainSplit = data.trainSplit();
                if (!train && !split.equals(trainSplit) && storage.exists(Storage.path(root + "/" + trainSplit))) {
                    // Class index = position in the sorted folder list: only valid if both splits have the same classes.
                    src.checkSameClasses(trainSplit, split);
                }
            }
            case "webdataset" -> {
                String spec = train ? data.trainShards() : data.valShards();
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
}
