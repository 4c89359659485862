package ai.pela.spark.io;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.io.Safetensors;
import ai.pela.zoo.io.StateDict;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * The one way spark-jobs reads a model's weights: a safetensors file at any Hadoop path (header validated and sizes
 * bounded by {@link Safetensors}), checked key by key and shape by shape against the layout the model needs. A
 * family whose files hold other names (ALBEF's PyTorch checkpoints) reads them here and maps them itself.
 */
public final class Weights {
    private Weights() {
    }

    /** The file as it is; an unreadable file fails naming it. */
    public static StateDict read(Storage storage, String location) {
        Path p = Storage.path(location);
        try (InputStream in = storage.open(p)) {
            return Safetensors.read(in, storage.length(p), location);
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The file, checked to hold exactly {@code layout}'s keys and shapes. */
    public static StateDict read(Storage storage, String location, Map<String, long[]> layout) {
        StateDict sd = read(storage, location);
        sd.checkMatches(location, layout);
        return sd;
    }

    /** {@code pela.model.weights} when set; the error says what to give when it is not. */
    public static String configured(String location) {
        if (location == null || location.isBlank()) {
            throw new PelaException("configuration key 'pela.model.weights' is not set: give the model's .safetensors");
        }
        return location;
    }
}
