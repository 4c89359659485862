package ai.pela.spark.train;

import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.train.PelaStep;
import ai.pela.zoo.train.TrainStep;
import ai.pela.zoo.vit.VitModel;

/**
 * The ViT family's step, and a {@link ModelSpec}'s default: {@link PelaStep} on the student's placeholder weights,
 * with the executor's cached teacher (loaded once per JVM and device from its Hadoop path) or, without a teacher,
 * plain supervised training.
 */
public record VitStepFactory() implements StepFactory {
    private static final long serialVersionUID = 1L;

    @Override
    public TrainStep create(ModelSpec spec, int device) {
        VitModel teacher = null;
        StateDict teacherWeights = null;
        if (spec.hasTeacher()) {
            teacherWeights = TeacherCache.get(spec.teacherWeights() + "@" + device, spec::loadTeacherWeights);
            teacher = VitModel.create(spec.teacher(), teacherWeights, spec.teacherWeights(), spec.teacherDataType());
        }
        return new PelaStep(spec.student(), spec.placeholderStudentWeights(), teacher, teacherWeights, spec.hyper());
    }

    @Override
    public String key() {
        return "vit";
    }
}
