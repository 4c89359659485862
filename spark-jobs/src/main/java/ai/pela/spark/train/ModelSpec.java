package ai.pela.spark.train;

import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Weights;
import ai.pela.zoo.config.ModelConfig;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.StepHyper;
import ai.pela.zoo.vit.VitLayout;
import java.io.Serializable;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What an executor needs to build its trainer: the student's architecture, the teacher's (or none, for plain
 * supervised training) and the Hadoop path of the teacher's weights — executors load the teacher themselves,
 * once per JVM; it is never broadcast and never averaged — and the step's hyper-parameters. The family's
 * {@link StepFactory} builds the step on the executor; without one it is the ViT's ({@link VitStepFactory}).
 */
public record ModelSpec(ModelConfig student, ModelConfig teacher, String teacherWeights, StepHyper hyper,
        SerializableConf hadoop, String teacherPrecision, StepFactory factory) implements Serializable {

    public ModelSpec {
        checkPrecision(teacherPrecision);
        if (factory == null) {
            factory = new VitStepFactory();
        }
    }

    public static String checkPrecision(String teacherPrecision) {
        if (!java.util.List.of("auto", "fp32", "fp16").contains(teacherPrecision)) {
            throw new ai.pela.zoo.PelaException("configuration key 'pela.gpu.teacher-precision' must be auto, fp32 or fp16,"
                    + " got '" + teacherPrecision + "'");
        }
        return teacherPrecision;
    }

    /** The classification / PELA step. */
    public ModelSpec(ModelConfig student, ModelConfig teacher, String teacherWeights, StepHyper hyper,
            SerializableConf hadoop, String teacherPrecision) {
        this(student, teacher, teacherWeights, hyper, hadoop, teacherPrecision, null);
    }

    /** The classification / PELA step with a teacher computing in FP32. */
    public ModelSpec(ModelConfig student, ModelConfig teacher, String teacherWeights, StepHyper hyper,
            SerializableConf hadoop) {
        this(student, teacher, teacherWeights, hyper, hadoop, "fp32", null);
    }

    /** The teacher's compute type on this executor: auto is FP16 on a GPU backend and FP32 on the CPU. */
    public DataType teacherDataType() {
        return switch (teacherPrecision) {
            case "fp16" -> DataType.HALF;
            case "fp32" -> DataType.FLOAT;
            default -> Nd4j.getEnvironment().isCPU() ? DataType.FLOAT : DataType.HALF;
        };
    }

    public boolean hasTeacher() {
        return teacher != null;
    }

    /** A key identifying executors' cached trainers for this spec. */
    public String cacheKey() {
        // A factory's step (ALBEF's) may carry its architectures itself and leave student and teacher null.
        return Fingerprint.of(student, teacher, teacherWeights, hyper, teacherPrecision) + "|" + factory.key();
    }

    /** Zero-filled student parameters of the right shapes; the real values arrive with each round's broadcast. */
    public StateDict placeholderStudentWeights() {
        StateDict sd = new StateDict();
        for (Map.Entry<String, long[]> e : VitLayout.parameterShapes(student).entrySet()) {
            sd.put(e.getKey(), Nd4j.zeros(DataType.FLOAT, e.getValue()));
        }
        return sd;
    }

    public StateDict loadTeacherWeights() {
        return Weights.read(hadoop.storage(), teacherWeights, VitLayout.parameterShapes(teacher));
    }
}
