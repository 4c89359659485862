package ai.pela.spark.jobs;

import ai.pela.zoo.PelaException;
import java.util.Locale;

/** The dense tasks of {@code train-head} and {@code evaluate --task}. */
public enum DenseTask {
    /** ADE20K scene parsing: UperNet, mIoU / aAcc. */
    ADE20K("ade20k"),
    /** COCO box detection: ViTDet pyramid + FCOS, COCO AP. */
    COCO_DETECTION("coco-detection");

    private final String cli;

    DenseTask(String cli) {
        this.cli = cli;
    }

    public String cli() {
        return cli;
    }

    public static DenseTask parse(String s) {
        for (DenseTask t : values()) {
            if (t.cli.equals(s.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new PelaException("--task '" + s + "' is not one of: ade20k, coco-detection");
    }
}
