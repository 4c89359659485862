package ai.pela.spark.albef;

import ai.pela.spark.train.Fingerprint;
import ai.pela.spark.train.ModelSpec;
import ai.pela.spark.train.StepFactory;
import ai.pela.spark.train.TeacherCache;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefLayout;
import ai.pela.zoo.albef.AlbefModel;
import ai.pela.zoo.albef.AlbefPelaStep;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.TrainStep;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds an {@link AlbefPelaStep} on an executor, so the parameter-averaging trainer drives ALBEF unchanged. The
 * student's parameters are placeholders (each round's broadcast overwrites them); the teacher's weights are read
 * from their Hadoop path once per executor JVM ({@link TeacherCache}), never broadcast. Without a teacher the step
 * trains on ITC + ITM + MLM alone (train-teacher).
 *
 * @param teacher        null for plain ALBEF training
 * @param teacherWeights the teacher's model.safetensors (null without a teacher)
 * @param textLength     the caption length every batch is padded to (the graphs are built for it)
 */
public record AlbefStepFactory(AlbefConfig student, AlbefConfig teacher, String teacherWeights, int textLength,
        AlbefPelaStep.Negatives negatives) implements StepFactory {

    @Override
    public TrainStep create(ModelSpec spec, int device) {
        StateDict zeros = new StateDict();
        for (Map.Entry<String, long[]> e : AlbefLayout.parameterShapes(student).entrySet()) {
            zeros.put(e.getKey(), Nd4j.zeros(DataType.FLOAT, e.getValue()));
        }
        if (teacher == null) {
            return new AlbefPelaStep(student, zeros, null, null, spec.hyper(), textLength, negatives, 0);
        }
        StateDict weights = TeacherCache.get("albef:" + teacherWeights + "@" + device,
                () -> AlbefFiles.readWeights(spec.hadoop().storage(), teacherWeights, teacher));
        AlbefModel frozen = AlbefModel.create(teacher, weights, textLength, teacherWeights);
        return new AlbefPelaStep(student, zeros, frozen, weights, spec.hyper(), textLength, negatives, 0);
    }

    @Override
    public String key() {
        return "albef:" + Fingerprint.of(student, teacher) + ":" + (teacher == null ? "-" : teacherWeights)
                + ":" + textLength + ":" + negatives;
    }
}
