package ai.pela.spark.eval;

import java.io.Serializable;

/** One segmentation example as the driver hands it to an executor: Hadoop path strings of its image and label map. */
public record SegSample(String image, String annotation) implements Serializable {
    private static final long serialVersionUID = 1L;

    public SegSample {
        if (image == null || image.isEmpty() || annotation == null || annotation.isEmpty()) {
            throw new IllegalArgumentException("segmentation sample without an image or annotation path");
        }
    }

    /** The image's file name, for log messages. */
    public String name() {
        return image.substring(image.lastIndexOf('/') + 1);
    }
}
