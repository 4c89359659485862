package ai.pela.spark.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import org.junit.jupiter.api.Test;

class BracesTest {
    @Test
    void withoutBracesTheSpecIsOneName() {
        assertThat(Braces.expand("hdfs://nn/data/shard.tar")).containsExactly("hdfs://nn/data/shard.tar");
    }

    @Test
    void zeroPaddedRangesKeepTheirWidth() {
        assertThat(Braces.expand("s3a://b/train-{000008..000011}.tar")).containsExactly(
                "s3a://b/train-000008.tar", "s3a://b/train-000009.tar", "s3a://b/train-000010.tar",
                "s3a://b/train-000011.tar");
        assertThat(Braces.expand("x{8..11}")).containsExactly("x8", "x9", "x10", "x11");
        assertThat(Braces.expand("x{3..1}")).containsExactly("x3", "x2", "x1");
        assertThat(Braces.expand("x{0..0}")).containsExactly("x0");
    }

    @Test
    void listsAndSeveralGroupsExpandLeftToRight() {
        assertThat(Braces.expand("{train,val}-{0..1}.tar"))
                .containsExactly("train-0.tar", "train-1.tar", "val-0.tar", "val-1.tar");
        assertThat(Braces.expand("a{,b}")).containsExactly("a", "ab");
    }

    @Test
    void malformedSpecsFailNamingTheSpec() {
        assertThatThrownBy(() -> Braces.expand("s-{0..9.tar")).isInstanceOf(PelaException.class)
                .hasMessageContaining("'s-{0..9.tar'").hasMessageContaining("not closed");
        assertThatThrownBy(() -> Braces.expand("s-0..9}.tar")).hasMessageContaining("'}' without '{'");
        assertThatThrownBy(() -> Braces.expand("s-{a,{b,c}}")).hasMessageContaining("nested");
        assertThatThrownBy(() -> Braces.expand("s-{a..c}")).hasMessageContaining("two non-negative integers");
        assertThatThrownBy(() -> Braces.expand("s-{7}")).hasMessageContaining("neither a range");
        assertThatThrownBy(() -> Braces.expand("s-{0..99999999}")).hasMessageContaining("more than");
        assertThatThrownBy(() -> Braces.expand("{0..999}{0..999}{0..9}")).hasMessageContaining("more than");
    }
}
