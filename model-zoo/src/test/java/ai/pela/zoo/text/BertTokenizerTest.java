package ai.pela.zoo.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pela.zoo.PelaException;
import ai.pela.zoo.testing.Fixtures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

class BertTokenizerTest {
    private static final BertTokenizer BERT = BertTokenizer.bertBaseUncased();
    /** One reference tokenisation: the text, its ids and tokens untruncated, and its ids truncated to 30. */
    record Case(String text, int[] ids, List<String> tokens, int[] idsMax30) {
    }

    private static List<Case> cases;

    @TempDir
    Path dir;

    /**
     * 41 sentences tokenised by Hugging Face tokenizers (Rust) from the same tokenizer.json, by
     * src/test/js/make_bert_fixtures.mjs: accents, Greek, Cyrillic, CJK, Hangul, Devanagari, Arabic, numbers,
     * URLs, every ASCII punctuation mark, Unicode quotes, white-space and control characters, emoji, full-width
     * forms, words of 100, 101 and 135 characters, the empty string and captions longer than 30 tokens.
     */
    @BeforeAll
    static void readFixture() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Fixtures.resource("/text/bert_uncased_tokenization.json").toFile());
        cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            List<String> tokens = new ArrayList<>();
            c.get("tokens").forEach(t -> tokens.add(t.asText()));
            cases.add(new Case(c.get("text").asText(), ints(c.get("ids")), tokens, ints(c.get("ids_max30"))));
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void bundledVocabularyIsBertBaseUncased() {
        assertThat(BERT.vocabSize()).isEqualTo(30522);
        assertThat(new int[] {BERT.padId(), BERT.unkId(), BERT.clsId(), BERT.sepId(), BERT.maskId()})
                .containsExactly(0, 100, 101, 102, 103);
        assertThat(BERT.token(7592)).isEqualTo("hello");
        assertThat(BERT.id("##ing")).isEqualTo(2075);
        assertThat(BERT.id("not-a-token")).isEqualTo(-1);
    }

    @Test
    void wellKnownOutput() {
        // The example of Hugging Face's documentation for bert-base-uncased: "hello world" -> 101 7592 2088 102.
        assertThat(BERT.encode("hello world", 512)).containsExactly(101, 7592, 2088, 102);
        assertThat(BERT.encode("Hello World!", 512)).containsExactly(101, 7592, 2088, 999, 102);
    }

    @Test
    void matchesHuggingFaceOnEveryFixtureSentence() {
        assertThat(cases).hasSizeGreaterThanOrEqualTo(40);
        for (Case c : cases) {
            assertThat(BERT.encode(c.text(), Integer.MAX_VALUE)).as("ids of %s", c.text()).containsExactly(c.ids());
            List<String> tokens = c.tokens().subList(1, c.tokens().size() - 1);
            assertThat(BERT.tokenize(c.text())).as("tokens of %s", c.text()).containsExactlyElementsOf(tokens);
        }
    }

    @Test
    void truncatesToThirtyAsHuggingFaceDoes() {
        long longer = cases.stream().filter(c -> c.ids().length > 30).count();
        assertThat(longer).as("fixture sentences over 30 tokens").isGreaterThanOrEqualTo(4);
        for (Case c : cases) {
            int[] ids = BERT.encode(c.text(), 30);
            assertThat(ids).as("ids of %s", c.text()).containsExactly(c.idsMax30());
            assertThat(ids[ids.length - 1]).isEqualTo(BERT.sepId());
        }
    }

    @Test
    void wordsOverOneHundredCharactersAreUnknown() {
        assertThat(BERT.tokenize("a".repeat(100))).doesNotContain("[UNK]").first().isEqualTo("aaa");
        assertThat(BERT.tokenize("a".repeat(101))).containsExactly("[UNK]");
        // 100 surrogate pairs are 200 chars but 100 characters: the limit counts code points, as Python's len().
        assertThat(BERT.tokenize("\uD835\uDC00".repeat(100) + " x")).containsExactly("[UNK]", "x");
    }

    @Test
    void specialTokensInTheTextAreJustCharacters() {
        assertThat(BERT.tokenize("a [SEP] b")).containsExactly("a", "[", "sep", "]", "b");
    }

    @Test
    void batchPadsToTheLongestRow() {
        TokenBatch b = BERT.encodeBatch(List.of("hello world", "", "a sneaker to the left of a shirt"), 30,
                BertTokenizer.Padding.LONGEST);
        assertThat(b.batch()).isEqualTo(3);
        assertThat(b.length()).isEqualTo(11);
        assertThat(b.row(0)).containsExactly(101, 7592, 2088, 102, 0, 0, 0, 0, 0, 0, 0);
        assertThat(b.row(1)).containsExactly(101, 102, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        assertThat(IntStream.range(0, 3).map(b::realLength).toArray()).containsExactly(4, 2, 11);
        assertThat(b.mask()).containsExactly(
                1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
                1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    }

    @Test
    void batchPadsToTheMaximumLengthAndConvertsToArrays() {
        String longCaption = cases.stream().filter(c -> c.ids().length > 40).findFirst().orElseThrow().text();
        TokenBatch b = BERT.encodeBatch(List.of("hello world", longCaption), 16, BertTokenizer.Padding.MAX_LENGTH);
        assertThat(b.length()).isEqualTo(16);
        assertThat(b.realLength(0)).isEqualTo(4);
        assertThat(b.realLength(1)).isEqualTo(16);
        assertThat(b.id(1, 15)).isEqualTo(BERT.sepId());
        assertThat(b.idsArray().shape()).containsExactly(2, 16);
        assertThat(b.idsArray().dataType()).isEqualTo(DataType.INT);
        assertThat(b.idsArray().getInt(0, 2)).isEqualTo(2088);
        assertThat(b.maskArray(DataType.FLOAT).getFloat(0, 4)).isZero();
        assertThat(b.maskArray(DataType.FLOAT).getFloat(1, 15)).isEqualTo(1f);
    }

    @Test
    void maxLenMustHoldClsAndSep() {
        assertThat(BERT.encode("hello world", 2)).containsExactly(101, 102);
        assertThatThrownBy(() -> BERT.encode("hello", 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void vocabTxtGivesTheSameIds() throws IOException {
        Path vocab = dir.resolve("vocab.txt");
        Files.writeString(vocab, String.join("\n", allTokens()) + "\n", StandardCharsets.UTF_8);
        BertTokenizer fromTxt = BertTokenizer.fromFile(vocab);
        assertThat(fromTxt.vocabSize()).isEqualTo(30522);
        for (Case c : cases) {
            assertThat(fromTxt.encode(c.text(), Integer.MAX_VALUE)).as(c.text()).containsExactly(c.ids());
        }
    }

    @Test
    void tokenizerJsonByPathGivesTheSameIds() throws IOException {
        Path json = dir.resolve("tokenizer.json");
        try (InputStream in = BertTokenizer.class.getResourceAsStream(BertTokenizer.BUNDLED_RESOURCE)) {
            Files.write(json, in.readAllBytes());
        }
        BertTokenizer fromPath = BertTokenizer.fromFile(json);
        for (Case c : cases) {
            assertThat(fromPath.encode(c.text(), 30)).as(c.text()).containsExactly(c.idsMax30());
        }
    }

    /** A hand-made vocabulary where the greedy longest match and the [UNK] fallback can be worked out by hand. */
    @Test
    void greedyLongestMatchFirst() throws IOException {
        Path vocab = dir.resolve("tiny.txt");
        Files.writeString(vocab, String.join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                "un", "una", "##a", "##ff", "##affable", "##able", "##b", "."));
        BertTokenizer tiny = BertTokenizer.fromFile(vocab);
        // "una" is longer than "un", then "##ffable" is not a piece, so "##ff" then "##able" (not "##a" + ...).
        assertThat(tiny.tokenize("Unaffable.")).containsExactly("una", "##ff", "##able", ".");
        assertThat(tiny.encode("unaffable", 10)).containsExactly(2, 6, 8, 10, 3);
        // "unab": "una" + "##b"; "unc": no piece covers "c", so the whole word is [UNK], not "un" + [UNK].
        assertThat(tiny.tokenize("unab unc")).containsExactly("una", "##b", "[UNK]");
    }

    @Test
    void malformedVocabulariesNameTheFileAndTheProblem() throws IOException {
        assertThatThrownBy(() -> BertTokenizer.fromFile(dir.resolve("absent.json")))
                .isInstanceOf(PelaException.class).hasMessageContaining("absent.json").hasMessageContaining("does not exist");
        assertRejected("bpe.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}", "not WordPiece");
        assertRejected("norm.json", "{\"normalizer\": {\"type\": \"NFC\"}, \"model\": {\"type\": \"WordPiece\", "
                + "\"vocab\": {\"a\": 0}}}", "not BertNormalizer");
        assertRejected("nomask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n", "no [MASK] token");
        assertRejected("twice.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n", "line 7: token 'hello' appears twice");
        assertRejected("gap.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[PAD]\": 0, \"[UNK]\": 7}}}",
                "has id 7, which is outside 0..1");
        assertRejected("text.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[PAD]\": \"zero\"}}}",
                "model.vocab['[PAD]'] is not an integer id");
        assertRejected("broken.json", "{\"model\": {\"type\": ", "not valid JSON");
        assertRejected("deep.json", "{\"a\":".repeat(200) + "1" + "}".repeat(200), "not valid JSON");
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> BertTokenizer.fromFile(latin1)).isInstanceOf(PelaException.class)
                .hasMessageContaining("latin1.txt").hasMessageContaining("not UTF-8");
    }

    private void assertRejected(String name, String content, String problem) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        assertThatThrownBy(() -> BertTokenizer.fromFile(file)).isInstanceOf(PelaException.class)
                .hasMessageStartingWith(file.toString()).hasMessageContaining(problem);
    }

    private static List<String> allTokens() {
        List<String> tokens = new ArrayList<>();
        for (int id = 0; id < BERT.vocabSize(); id++) {
            tokens.add(BERT.token(id));
        }
        return tokens;
    }
}
