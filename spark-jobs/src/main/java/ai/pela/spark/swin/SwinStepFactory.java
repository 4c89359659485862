package ai.pela.spark.swin;

import ai.pela.spark.train.Fingerprint;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.StepFactory;
import ai.pela.spark.train.TeacherCache;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.swin.SwinConfig;
import ai.pela.zoo.swin.SwinLayout;
import ai.pela.zoo.swin.SwinModel;
import ai.pela.zoo.train.SwinPelaStep;
import ai.pela.zoo.train.TrainStep;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds a {@link SwinPelaStep} on an executor, so the parameter-averaging trainer drives a Swin unchanged. The
 * student's parameters are placeholders (each round's broadcast overwrites them); the teacher's weights are read
 * from their Hadoop path once per executor JVM and device ({@link TeacherCache}), never broadcast. Without a teacher
 * the step is plain supervised training (train-teacher).
 *
 * @param teacher        null for plain training
 * @param teacherWeights the teacher's model.safetensors (null without a teacher)
 */
public record SwinStepFactory(SwinConfig student, SwinConfig teacher, String teacherWeights) implements StepFactory {

    @Override
    public TrainStep create(ModelSpec spec, int device) {
        StateDict zeros = new StateDict();
        for (Map.Entry<String, long[]> e : SwinLayout.parameterShapes(student).entrySet()) {
            zeros.put(e.getKey(), Nd4j.zeros(DataType.FLOAT, e.getValue()));
        }
        if (teacher == null) {
            return new SwinPelaStep(student, zeros, null, null, spec.hyper());
        }
        StateDict weights = TeacherCache.get("swin:" + teacherWeights + "@" + device,
                () -> SwinFiles.readWeights(spec.hadoop().storage(), teacherWeights, teacher));
        SwinModel frozen = SwinModel.create(teacher, weights, teacherWeights);
        return new SwinPelaStep(student, zeros, frozen, weights, spec.hyper());
    }

    @Override
    public String key() {
        return "swin:" + Fingerprint.of(student, teacher) + ":" + (teacher == null ? "-" : teacherWeights);
    }
}
