package ai.pela.zoo.engine;

import ai.pela.zoo.io.StateDict;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A model's parameters as one flat FLOAT vector, each parameter a view of it under its checkpoint key and shape,
 * in layout order; with {@code withGradients} a second flat vector of the same layout holds the gradients. Flat
 * vectors make the optimiser one pass over three arrays and the driver's averaging a copy, with no per-parameter
 * bookkeeping.
 */
public final class ParamSet {
    private final List<String> order;
    private final INDArray values;
    private final INDArray grads;
    private final Map<String, INDArray> valueViews;
    private final Map<String, INDArray> gradViews;

    private ParamSet(Map<String, long[]> shapes, boolean withGradients) {
        this.order = List.copyOf(shapes.keySet());
        long n = shapes.values().stream().mapToLong(ParamSet::length).sum();
        this.values = Nd4j.create(DataType.FLOAT, n);
        this.grads = withGradients ? Nd4j.create(DataType.FLOAT, n) : null;
        this.valueViews = views(values, shapes);
        this.gradViews = withGradients ? views(grads, shapes) : Map.of();
    }

    /**
     * The parameters of {@code shapes}' layout initialised from {@code weights} (copied, cast to FLOAT; check the
     * checkpoint against the layout first).
     */
    public static ParamSet of(Map<String, long[]> shapes, StateDict weights, boolean withGradients) {
        ParamSet p = new ParamSet(shapes, withGradients);
        p.load(weights);
        return p;
    }

    /** Copies every parameter of {@code weights} into the views (the checkpoint must have every key). */
    public void load(StateDict weights) {
        valueViews.forEach((k, v) -> v.assign(weights.get(k).castTo(DataType.FLOAT).reshape(v.shape())));
    }

    private static Map<String, INDArray> views(INDArray flat, Map<String, long[]> shapes) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long len = length(e.getValue());
            out.put(e.getKey(), flat.get(NDArrayIndex.interval(off, off + len)).reshape('c', e.getValue()));
            off += len;
        }
        return Collections.unmodifiableMap(out);
    }

    private static long length(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    public List<String> order() {
        return order;
    }


    /** The live parameter (a view of the flat vector). */
    public INDArray value(String key) {
        INDArray v = valueViews.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no parameter " + key);
        }
        return v;
    }

    /** The parameter's gradient (a view of the flat gradient vector). */
    public INDArray grad(String key) {
        INDArray g = gradViews.get(key);
        if (g == null) {
            throw new IllegalArgumentException(grads == null ? "parameters without gradients (inference)" : "no parameter " + key);
        }
        return g;
    }

    public INDArray flatValues() {
        return values;
    }

    public INDArray flatGrads() {
        return grads;
    }

    /** Name → live view, in layout order. */
    public Map<String, INDArray> values() {
        return valueViews;
    }

    /** Name → gradient view, in layout order. */
    public Map<String, INDArray> grads() {
        return gradViews;
    }

}
