package ai.pela.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Input errors of the dense commands: exit 2 and one line naming the problem, before any Spark work. */
class DenseCliTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PelaCli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void anUnknownTaskIsAnInputError() {
        String[] r = run("train-head", "--task", "cityscapes", "--backbone", "../conf/models/vit-small-fmnist");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("--task 'cityscapes' is not one of: ade20k, coco-detection");
    }

    @Test
    void aDenseEvaluationNeedsAModelAndAClassifierDirectoryIsNotOne() {
        assertThat(run("evaluate", "--task", "ade20k")[1]).contains("needs --model");
        String[] r = run("evaluate", "--task", "ade20k", "--model", "../conf/models/vit-small-fmnist");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("conf/models/vit-small-fmnist: not a dense model directory (no head.json");
        assertThat(run("evaluate", "--compare", "a,b")[1]).contains("--compare is for the dense tasks");
    }

    @Test
    void aHeadOfTheOtherTaskIsRefusedNamingTheFile() {
        String[] r = run("train-head", "--task", "ade20k", "--backbone", "../conf/models/vit-small-fmnist",
                "--set", "dense.head=\"../conf/dense/fcos-fmnist.json\"", "--set", "dense.img-size=28",
                "--set", "dense.ade20k-root=\"/nonexistent\"");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("fcos-fmnist.json: a fcos head does not fit --task ade20k");
    }

    @Test
    void anUnknownRecipeKeyUnderDenseIsAnError() {
        String[] r = run("train-head", "--task", "ade20k", "--backbone", "../conf/models/vit-small-fmnist",
                "--set", "dense.imgsize=28");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("unknown configuration key").contains("pela.dense.imgsize");
    }
}
