package ai.pela.zoo.dense;

import org.nd4j.autodiff.samediff.SDVariable;

/**
 * A feature map [N, c, h, w] in a SameDiff graph with its static sizes: the batch stays dynamic, the rest is
 * known while the graph is built, which the reshapes of resizing and pooling need.
 */
public record Fmap(SDVariable v, int c, int h, int w) {
}
