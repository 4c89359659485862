package ai.pela.spark.config;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.Sample;
import ai.pela.zoo.PelaException;
import java.util.List;

/** {@code pela.data}: where the training and validation samples are and how training images are augmented. */
public record DataSettings(String format, String root, List<String> annotations, String imageRoot, String trainShards,
        String valShards, String trainSplit, String valSplit, List<Double> cropScale, boolean hflip, String onBadImage,
        int limit) {
    public DataSettings {
        annotations = List.copyOf(annotations);
        cropScale = List.copyOf(cropScale);
    }

    public static DataSettings from(Recipe r) {
        return new DataSettings(r.string("data.format"), r.string("data.root"), r.strings("data.annotations"),
                r.string("data.image-root"), r.string("data.train-shards"), r.string("data.val-shards"),
                r.string("data.train-split"), r.string("data.val-split"), r.numbers("data.crop-scale"),
                r.flag("data.hflip"), r.string("data.on-bad-image"), r.integer("data.limit"));
    }

    /** The RandomResizedCrop range {min, max}, checked: 0 < min <= max <= 1. */
    public double[] checkedCropScale() {
        List<Double> s = cropScale;
        if (s.size() != 2 || !(s.get(0) > 0) || s.get(0) > s.get(1) || s.get(1) > 1) {
            throw Checks.invalid("data.crop-scale", "must be [min, max] with 0 < min <= max <= 1, got " + s);
        }
        return Checks.array(s);
    }

    public BadImagePolicy badImagePolicy() {
        try {
            return BadImagePolicy.parse(onBadImage);
        } catch (IllegalArgumentException | PelaException e) {
            throw new PelaException("configuration key 'pela.data.on-bad-image': " + e.getMessage(), e);
        }
    }

    /** The first {@code data.limit} samples of the listing (all when the limit is 0 or larger than the listing). */
    public List<Sample> limited(List<Sample> samples) {
        return limit > 0 && limit < samples.size() ? List.copyOf(samples.subList(0, limit)) : samples;
    }
}
