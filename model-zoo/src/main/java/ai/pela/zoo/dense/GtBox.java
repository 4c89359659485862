package ai.pela.zoo.dense;

import java.io.Serializable;

/** A ground-truth box in input pixels, corners (x1, y1) top-left and (x2, y2) bottom-right, with its class index. */
public record GtBox(double x1, double y1, double x2, double y2, int label) implements Serializable {
    public double area() {
        return (x2 - x1) * (y2 - y1);
    }
}
