package ai.pela.zoo.io;

import ai.pela.zoo.PelaException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An ordered map from checkpoint key (timm / PyTorch state-dict names such as {@code blocks.0.attn.qkv.weight})
 * to array, in PyTorch layout. This is what checkpoints are read into and written from, and what low-rank
 * surgery transforms, so it can run anywhere: driver, Spark task or CLI.
 */
public final class StateDict {
    private final Map<String, INDArray> tensors = new LinkedHashMap<>();

    public StateDict() {
    }

    public StateDict(Map<String, INDArray> tensors) {
        this.tensors.putAll(tensors);
    }

    public StateDict put(String key, INDArray value) {
        tensors.put(key, value);
        return this;
    }

    /** The array under {@code key}; fails naming the key when it is absent. */
    public INDArray get(String key) {
        INDArray a = tensors.get(key);
        if (a == null) {
            throw new PelaException("checkpoint has no tensor '" + key + "'");
        }
        return a;
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    public Set<String> keys() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    public Map<String, INDArray> asMap() {
        return Collections.unmodifiableMap(tensors);
    }

    public int size() {
        return tensors.size();
    }

    public long numParameters() {
        return tensors.values().stream().mapToLong(INDArray::length).sum();
    }

    /**
     * Checks that this checkpoint has exactly the expected keys with the expected shapes.
     *
     * @param source   the file or description the checkpoint came from, for the message
     * @param expected key → shape the model needs
     * @throws PelaException listing missing and unexpected keys, or naming the key and both shapes
     */
    public void checkMatches(String source, Map<String, long[]> expected) {
        List<String> missing = new ArrayList<>();
        for (String k : expected.keySet()) {
            if (!tensors.containsKey(k)) {
                missing.add(k);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : tensors.keySet()) {
            if (!expected.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new PelaException(source + ": checkpoint keys do not match the model: missing keys " + missing
                    + ", unexpected keys " + unexpected);
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] actual = tensors.get(e.getKey()).shape();
            if (!Arrays.equals(actual, e.getValue())) {
                throw new PelaException(source + ": tensor '" + e.getKey() + "' has shape " + Arrays.toString(actual)
                        + " but the model needs " + Arrays.toString(e.getValue()));
            }
        }
    }
}
