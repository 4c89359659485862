package ai.pela.spark.eval;

/**
 * A decoded label map: one training class per pixel, row-major ({@code labels[y * width + x]}), with
 * {@link SegHistogram#IGNORE_INDEX} where a pixel is not evaluated.
 */
public record LabelMap(int width, int height, int[] labels) {
    public LabelMap {
        if ((long) width * height != labels.length) {
            throw new IllegalArgumentException(width + "x" + height + " label map with " + labels.length + " values");
        }
    }

    public int at(int x, int y) {
        return labels[y * width + x];
    }
}
