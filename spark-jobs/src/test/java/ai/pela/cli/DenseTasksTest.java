package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.demo.ForgedFixtures;
import ai.pela.spark.demo.ForgedScenes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * train-head and evaluate --task end to end through the command line, on forged scenes of real Fashion-MNIST items
 * (56-pixel canvases, 1–2 items), with the demo's committed Fashion-MNIST ViT as the backbone, on local Spark with
 * 2 workers. Chance levels the results are compared with are in each test.
 */
class DenseTasksTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEACHER = "../conf/models/vit-small-fmnist";
    private static final String RECIPE = "../conf/dense/fmnist-scenes.conf";

    @TempDir
    static Path dir;
    static ForgedScenes.Summary scenes;

    @BeforeAll
    static void forge() {
        scenes = ForgedFixtures.write(dir.resolve("scenes"), 3, 768, 64, 28, 1, true);
    }

    private static List<String> data() {
        Path coco = scenes.root().resolve("coco");
        return List.of("--set", "dense.ade20k-root=\"" + scenes.ade20k() + "\"",
                "--set", "dense.coco-train-images=\"" + coco.resolve("train") + "\"",
                "--set", "dense.coco-train-annotations=\"" + scenes.cocoInstances("train") + "\"",
                "--set", "dense.coco-val-images=\"" + coco.resolve("val") + "\"",
                "--set", "dense.coco-val-annotations=\"" + scenes.cocoInstances("val") + "\"");
    }

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(data());
        int code = PelaCli.execute(new PrintWriter(out), new PrintWriter(err), all.toArray(String[]::new));
        assertThat(code).as("exit code; stderr: %s", err).isZero();
        return out.toString();
    }

    private static JsonNode trainAndEvaluate(String task, String head, int epochs) throws Exception {
        Path runDir = dir.resolve(task + "-run");
        run("train-head", "--task", task, "--backbone", TEACHER, "--recipe", RECIPE, "--set", "run-dir=\"" + runDir + "\"",
                "--set", "dense.head=\"" + head + "\"", "--set", "train.epochs=" + epochs);
        assertThat(runDir.resolve("model/head.json")).isRegularFile();
        assertThat(Files.readAllLines(runDir.resolve("metrics.jsonl"))).hasSize(6 * epochs);
        Path metrics = dir.resolve(task + "-metrics.json");
        run("evaluate", "--task", task, "--model", runDir.resolve("model").toString(), "--recipe", RECIPE,
                "--out", metrics.toString());
        return JSON.readTree(metrics.toFile());
    }

    @Test
    void upernetFineTunedOnForgedScenesSegmentsWellAboveChance() throws Exception {
        JsonNode m = trainAndEvaluate("ade20k", "../conf/dense/upernet-fmnist.json", 4);
        System.out.println("ade20k: " + m);
        assertThat(m.get("images").asInt()).isEqualTo(64);
        // Chance: a uniformly random class per pixel gives aAcc 10 % and mIoU about 5 %; always predicting the most
        // frequent class gives aAcc = its pixel share (under 20 % here) and mIoU under 2 %.
        assertThat(m.get("aAcc").asDouble()).isGreaterThan(30);
        assertThat(m.get("mIoU").asDouble()).isGreaterThan(12);

        // --compare, here of one model under two names, in sliding-window mode: on 28-pixel scenes the one window is
        // the whole image, so the numbers are exactly those of whole-image inference.
        Path model = dir.resolve("ade20k-run/model");
        Path compared = dir.resolve("compare.json");
        run("evaluate", "--task", "ade20k", "--compare", "first=" + model + ",second=" + model, "--recipe", RECIPE,
                "--set", "dense.seg-mode=slide", "--set", "dense.slide-stride=20", "--out", compared.toString());
        JsonNode c = JSON.readTree(compared.toFile());
        assertThat(c.get("task").asText()).isEqualTo("ade20k");
        for (String name : List.of("first", "second")) {
            assertThat(c.at("/models/" + name + "/mode").asText()).isEqualTo("slide");
            assertThat(c.at("/models/" + name + "/mIoU").asDouble()).isEqualTo(m.get("mIoU").asDouble());
            assertThat(c.at("/models/" + name + "/backbone_params").asLong()).isEqualTo(m.get("backbone_params").asLong());
        }
        // The run report beside metrics.json has the ADE20K section, now with both compared models.
        String report = Files.readString(dir.resolve("report.html"));
        assertThat(report).contains("<h2>ADE20K semantic segmentation (validation)</h2>").contains("<td>first</td>")
                .contains("<td>second</td>");
    }

    @Test
    void fcosFineTunedOnForgedScenesDetectsWellAboveChance() throws Exception {
        JsonNode m = trainAndEvaluate("coco-detection", "../conf/dense/fcos-fmnist.json", 4);
        System.out.println("coco: " + m);
        assertThat(m.get("images").asInt()).isEqualTo(64);
        // Chance: boxes placed and labelled at random score an AP50 of about 0 (the untrained head: 0.00).
        assertThat(m.get("AP50").asDouble()).isGreaterThan(0.1);
        assertThat(m.get("AP").asDouble()).isGreaterThan(0.05);
        assertThat(dir.resolve("coco_results.json")).isRegularFile();
    }
}
