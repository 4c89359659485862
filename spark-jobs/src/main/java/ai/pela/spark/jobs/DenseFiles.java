package ai.pela.spark.jobs;

import ai.pela.spark.io.Storage;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.PelaException;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.dense.DenseModel;
import ai.pela.zoo.dense.HeadConfig;
import ai.pela.zoo.dense.HeadJson;
import ai.pela.zoo.io.StateDict;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import org.apache.hadoop.fs.Path;

/**
 * A dense model directory: {@code config.json} (the backbone, at the dense input size), {@value HeadJson#FILE}
 * (the head) and {@code model.safetensors} (backbone under {@code backbone.}, head under mmseg's / mmdet's names).
 */
public final class DenseFiles {
    /** A dense model directory's configs and the location of its weights; checked when read. */
    public record DenseRef(String dir, ModelConfig backbone, HeadConfig head, String weights) implements Serializable {
        public String name() {
            return nameOf(dir);
        }
    }

    private DenseFiles() {
    }

    /** A model's short name: its directory's name. */
    public static String nameOf(String dir) {
        String d = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
        return d.substring(d.lastIndexOf('/') + 1);
    }

    public static DenseRef read(Storage storage, String dir) {
        String d = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
        if (!storage.exists(Storage.path(d + "/" + HeadJson.FILE))) {
            throw new PelaException(d + ": not a dense model directory (no " + HeadJson.FILE + "; train one with "
                    + "train-head, or evaluate a classifier with --task imagenet)");
        }
        ModelConfig backbone = JobFiles.readConfig(storage, d + "/config.json");
        HeadConfig head = readHead(storage, d + "/" + HeadJson.FILE);
        head.checkBackbone(backbone, d + "/" + HeadJson.FILE);
        return new DenseRef(d, backbone, head, d + "/model.safetensors");
    }

    public static HeadConfig readHead(Storage storage, String location) {
        try (InputStream in = storage.open(Storage.path(location))) {
            return HeadJson.read(in, location);
        } catch (IOException e) {
            throw new PelaException(location + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The checkpoint, checked key by key and shape by shape against the configs. */
    public static StateDict readWeights(Storage storage, DenseRef ref) {
        return Weights.read(storage, ref.weights(), DenseModel.parameterShapes(ref.backbone(), ref.head()));
    }

    /** Writes the three files, each atomically; config.json describes the backbone at the head's input size. */
    public static void write(Storage storage, Path dir, ModelConfig backbone, HeadConfig head, StateDict weights) {
        JobFiles.writeModel(storage, dir, backbone.withImgSize(head.imgSize()), weights);
        JobFiles.writeText(storage, new Path(dir, HeadJson.FILE), HeadJson.toJsonString(head));
    }
}
