package ai.pela.zoo.albef;

import ai.pela.zoo.config.LowRankSpec;
import ai.pela.zoo.io.StateDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Parameters of a graph named by their checkpoint keys, and the parameterised layers built from them (Linear,
 * LayerNorm) plus the exact GELU. Trainable parameters are SameDiff variables holding copies of the arrays;
 * frozen ones are constants, so no gradient is ever computed for them.
 */
final class GraphParams {
    private final SameDiff sd;
    private final StateDict weights;
    private final boolean trainable;
    private final LowRankSpec lowrank;
    private final List<String> names = new ArrayList<>();
    private final Map<String, String> linearInputs = new LinkedHashMap<>();

    GraphParams(SameDiff sd, StateDict weights, boolean trainable, LowRankSpec lowrank) {
        this.sd = sd;
        this.weights = weights;
        this.trainable = trainable;
        this.lowrank = lowrank;
    }

    SDVariable get(String key) {
        if (sd.hasVariable(key)) {
            return sd.getVariable(key);
        }
        INDArray arr = weights.get(key);
        if (arr.dataType() != DataType.FLOAT) {
            arr = arr.castTo(DataType.FLOAT);
        }
        names.add(key);
        return trainable ? sd.var(key, arr.dup()) : sd.constant(key, arr);
    }

    /** A Linear with bias on [M, d_in] rows; a decomposed one (PELA) is P.0 without bias, then P.1. */
    SDVariable linear(SDVariable x, String name) {
        linearInputs.put(name, x.name());
        if (lowrank != null && lowrank.isDecomposed(name)) {
            SDVariable h = sd.mmul(x, get(name + ".0.weight"), false, true, false);
            return sd.mmul(h, get(name + ".1.weight"), false, true, false).add(get(name + ".1.bias"));
        }
        return sd.mmul(x, get(name + ".weight"), false, true, false).add(get(name + ".bias"));
    }

    /** LayerNorm over the last axis of [M, d] ({@link ai.pela.zoo.vit.GraphOps}). */
    SDVariable layerNorm(SDVariable x, String name, double eps) {
        return ai.pela.zoo.vit.GraphOps.layerNorm(sd, x, get(name + ".weight"), get(name + ".bias"), eps);
    }

    /** Exact GELU, x · Φ(x), as torch's F.gelu and HF's "gelu" compute it (not the tanh approximation). */
    SDVariable gelu(SDVariable x) {
        return ai.pela.zoo.vit.GraphOps.gelu(sd, x);
    }

    /** Each Linear's input variable (rows [M, d_in]) by the Linear's name: what activation-aware SVD calibrates on. */
    Map<String, String> linearInputs() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(linearInputs));
    }

    /** Names of the parameters this object created, in creation order. */
    List<String> names() {
        return List.copyOf(names);
    }
}
