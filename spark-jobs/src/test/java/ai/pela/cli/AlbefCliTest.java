package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.pela.spark.demo.ForgedCaptions;
import ai.pela.spark.demo.ForgedFixtures;
import ai.pela.zoo.albef.AlbefConfigJson;
import ai.pela.zoo.albef.AlbefPresets;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
 * ALBEF through the CLI: a listed image that is missing or corrupt is skipped and counted (skip) or stops the run
 * naming the entry and the JSON file (fail); configuration and data errors exit 2 with one line naming the file
 * or key, before any Spark work.
 */
class AlbefCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static Path config;
    static Path annotations;

    record Run(int exit, String err) {
    }

    /** 16 entries, one round of 2 workers x 1 step x 8: the 15th image is corrupt, the 16th does not exist. */
    @BeforeAll
    static void setUp() throws Exception {
        config = dir.resolve("albef_tiny.json");
        AlbefConfigJson.write(AlbefPresets.get("albef_tiny"), config);
        ForgedCaptions.Summary s = ForgedFixtures.captions(dir.resolve("caps"), 9, 15, 0, 56);
        ArrayNode entries = (ArrayNode) JSON.readTree(s.pretrainJson().toFile());
        Files.write(s.root().resolve(entries.get(14).get("image").asText()), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
        entries.addObject().put("image", "images/train/missing.jpg").put("caption", "a coat");
        annotations = dir.resolve("caps").resolve("with-bad-images.json");
        JSON.writeValue(annotations.toFile(), entries);
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PelaCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, err.toString());
    }

    private static String[] teacher(Path runDir, Path annotationFile, String... more) {
        List<String> a = new ArrayList<>(List.of("train-teacher", "--set", "run-dir=\"" + runDir + "\"",
                "--set", "model.config=\"" + config + "\"", "--set", "data.format=albef-pretrain",
                "--set", "data.annotations=[\"" + annotationFile + "\"]", "--set", "albef.text-tokens=12",
                "--set", "train.workers=2", "--set", "train.local-steps=1", "--set", "train.batch-size=8",
                "--set", "train.warmup-epochs=0"));
        for (String m : more) {
            a.add("--set");
            a.add(m);
        }
        return a.toArray(String[]::new);
    }

    @Test
    void badImagesAreSkippedAndCountedOrStopTheRunNamingTheEntryAndFile() throws Exception {
        Path skipRun = dir.resolve("skip");
        Run skip = run(teacher(skipRun, annotations, "data.on-bad-image=skip"));
        assertThat(skip.exit()).as(skip.err()).isZero();
        JsonNode round = JSON.readTree(Files.readAllLines(skipRun.resolve("metrics.jsonl")).get(0));
        assertThat(round.get("skipped").asInt()).isEqualTo(2);
        assertThat(round.get("examples").asInt()).isEqualTo(14);
        assertThat(Files.exists(skipRun.resolve("model/config.json"))).isTrue();

        Run fail = run(teacher(dir.resolve("fail"), annotations, "data.on-bad-image=fail"));
        assertThat(fail.exit()).isEqualTo(2);
        assertThat(fail.err()).contains("with-bad-images.json").containsPattern("\\(entry 1[45] of ")
                .contains("bad image").hasLineCount(1);
    }

    @Test
    void configurationAndDataErrorsNameTheFileOrKey() throws Exception {
        Path r = dir.resolve("bad");
        Run format = run(teacher(r, annotations, "data.format=imagefolder"));
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.err()).contains("pela.data.format").contains("albef-pretrain").hasLineCount(1);

        Run none = run(teacher(r, annotations, "data.annotations=[]"));
        assertThat(none.err()).contains("'pela.data.annotations' is not set");

        Path noCaption = dir.resolve("no-caption.json");
        Files.writeString(noCaption, "[{\"image\": \"a.jpg\", \"caption\": \"a coat\"}, {\"image\": \"b.jpg\"}]");
        Run entry = run(teacher(r, noCaption));
        assertThat(entry.exit()).isEqualTo(2);
        assertThat(entry.err()).contains("no-caption.json: entry 1 has no \"caption\"");

        Path vocab = dir.resolve("vocab.json");
        Files.writeString(vocab, "{\"architecture\": \"albef_tiny\", \"bert_config\": {\"vocab_size\": 1000}}");
        Run v = run(teacher(r, annotations, "model.config=\"" + vocab + "\""));
        assertThat(v.err()).contains("vocab.json: field 'bert_config.vocab_size' is 1000");

        assertThat(run(teacher(r, annotations, "albef.negatives=teacher")).err())
                .contains("'pela.albef.negatives' is teacher, but train-teacher has no teacher");
        assertThat(run(teacher(r, annotations, "albef.text-tokens=65")).err())
                .contains("'pela.albef.text-tokens' must be in [3, 64]");

        String[] pretrain = teacher(r, annotations);
        pretrain[0] = "pretrain";
        Run noTeacher = run(pretrain);
        assertThat(noTeacher.exit()).isEqualTo(2);
        assertThat(noTeacher.err()).contains("'pela.model.weights' is not set");
        assertThat(Files.exists(r)).as("nothing written before the checks pass").isFalse();
    }
}
