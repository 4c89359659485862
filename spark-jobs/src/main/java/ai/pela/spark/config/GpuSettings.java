package ai.pela.spark.config;

import ai.pela.spark.gpu.GpuProfile;

/** {@code pela.gpu}: the training stage's resource profile and the teacher's precision. */
public record GpuSettings(GpuProfile.Settings profile, String teacherPrecision) {

    public static GpuSettings from(Recipe r) {
        return new GpuSettings(new GpuProfile.Settings(r.number("gpu.task-amount"), r.integer("gpu.task-cpus"),
                r.longValue("gpu.executor-amount"), r.string("gpu.discovery-script"), r.string("gpu.vendor")),
                r.string("gpu.teacher-precision"));
    }
}
