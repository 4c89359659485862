package ai.pela.spark.bench;

import ai.pela.zoo.config.ConfigJson;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.info.ModelInfo;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.loss.FdForm;
import ai.pela.zoo.loss.RwpForm;
import ai.pela.zoo.lowrank.LowRank;
import ai.pela.zoo.train.AdamW;
import ai.pela.zoo.train.CosineSchedule;
import ai.pela.zoo.train.GraphPelaStep;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.LinearSpec;
import ai.pela.zoo.vit.VitInit;
import ai.pela.zoo.vit.VitLayout;
import ai.pela.zoo.vit.VitModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A teacher, its κ-student (random weights of the student's shapes: speed does not depend on the values, and
 * skipping the SVD keeps DeiT-B set-up short) and a random input batch, plus the config.json files the PyTorch
 * reference rebuilds the same two models from.
 */
public record StepFixture(ModelConfig teacherConfig, StateDict teacherWeights, ModelConfig studentConfig,
        StateDict studentWeights, INDArray images, int[] labels, Path teacherJson, Path studentJson) {

    /** The PELA step's hyper-parameters of the benchmark: α = β = 1, ε = 1e-3, clip 5, AdamW wd 0.05. */
    public static StepHyper hyper() {
        return new StepHyper(1, 1, 0.1, FdForm.CODE, RwpForm.CODE, 1e-3, 5, AdamW.Config.defaults(0.05),
                CosineSchedule.constant(1e-4));
    }

    public static StepFixture of(ModelConfig teacher, double kappa, int batch, Path workDir) {
        ModelConfig student = teacher.withLowRank(LowRank.plan(teacher, kappa, LowRank.VIT_OMIT));
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, teacher.inChans(), teacher.imgSize(), teacher.imgSize());
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % teacher.numClasses();
        }
        try {
            Files.createDirectories(workDir);
            Path tj = workDir.resolve("teacher.json");
            Path sj = workDir.resolve("student.json");
            ConfigJson.write(teacher, tj);
            ConfigJson.write(student, sj);
            return new StepFixture(teacher, VitInit.random(teacher, 1), student, VitInit.random(student, 2), x, labels,
                    tj, sj);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public PelaStep newStep() {
        VitModel teacher = VitModel.create(teacherConfig, teacherWeights, "teacher");
        return new PelaStep(studentConfig, studentWeights, teacher, teacherWeights, hyper());
    }

    /** The same step on the SameDiff graph the engine replaced, for side-by-side runs. */
    public GraphPelaStep newGraphStep() {
        VitModel teacher = VitModel.create(teacherConfig, teacherWeights, "teacher");
        return new GraphPelaStep(studentConfig, studentWeights, teacher, teacherWeights, hyper());
    }

    public int batch() {
        return labels.length;
    }

    /**
     * FLOPs of one step: teacher forward, student forward + backward (≈ 3 forwards), and L_rwp's W1·W0 products
     * with their backward (3 × 2·d_in·r·d_out each, independent of the batch).
     */
    public double stepFlops() {
        double perImage = ModelInfo.of(teacherConfig).gflops() + 3 * ModelInfo.of(studentConfig).gflops();
        double rwp = 0;
        for (LinearSpec l : VitLayout.linears(teacherConfig)) {
            Integer r = studentConfig.lowrank().ranks().get(l.name());
            if (r != null) {
                rwp += 3 * 2.0 * l.dIn() * r * l.dOut();
            }
        }
        return batch() * perImage * 1e9 + rwp;
    }

    /** "demo ViT 28px/7 D64 x4" style: enough to tell the configs apart in a table. */
    public static String describe(ModelConfig c) {
        return String.format("%s (%dpx/%d, D%d, %d blocks, %d heads)", c.architecture(), c.imgSize(), c.patchSize(),
                c.embedDim(), c.depth(), c.numHeads());
    }

    public List<String> torchArgs(String mode) {
        return List.of("--mode", mode, "--teacher", teacherJson.toString(), "--student", studentJson.toString(),
                "--batch", Integer.toString(batch()));
    }
}
