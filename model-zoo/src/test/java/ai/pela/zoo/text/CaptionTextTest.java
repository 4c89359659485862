package ai.pela.zoo.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected strings worked out by hand from ALBEF's pre_caption, step by step as its Python does them. */
class CaptionTextTest {
    @Test
    void dropsPunctuationAndLowerCases() {
        assertThat(CaptionText.preCaption("A man's dog (black), jumping!", 30)).isEqualTo("a mans dog black jumping");
        assertThat(CaptionText.preCaption("What?! \"Quoted\" #tag: x; y~z*", 30)).isEqualTo("what quoted tag x yz");
    }

    @Test
    void dashesSlashesAndPersonBecomeWords() {
        assertThat(CaptionText.preCaption("A T-shirt/top next to <person>", 30)).isEqualTo("a t shirt top next to person");
    }

    @Test
    void collapsesRunsOfWhiteSpaceButNotSingleTabs() {
        // \s{2,} -> ' ' only for runs of two or more; a lone tab stays (Python leaves it too).
        assertThat(CaptionText.preCaption("  two   spaces\tand\t\ttabs \n", 30)).isEqualTo("two spaces\tand tabs");
        assertThat(CaptionText.preCaption("ends with newline\n", 30)).isEqualTo("ends with newline");
        assertThat(CaptionText.preCaption(" - ", 30)).isEmpty();
    }

    @Test
    void keepsAtMostMaxWords() {
        assertThat(CaptionText.preCaption("one two three four five", 3)).isEqualTo("one two three");
        assertThat(CaptionText.preCaption("one two three", 3)).isEqualTo("one two three");
    }

    @Test
    void encodeCleansThenTokenises() {
        TokenBatch b = CaptionText.encode(BertTokenizer.bertBaseUncased(),
                List.of("Hello, World!", "a sneaker-to the left"), 3, 30, BertTokenizer.Padding.LONGEST);
        // "hello world" -> 7592 2088 (the commas and '!' are gone); "a sneaker to" -> a sneak ##er to.
        assertThat(b.row(0)).containsExactly(101, 7592, 2088, 102, 0, 0);
        assertThat(b.row(1)).containsExactly(101, 1037, 13583, 2121, 2000, 102);
    }
}
