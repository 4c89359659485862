package ai.pela.zoo.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's basic tokenisation, as Hugging Face tokenizers' {@code BertNormalizer} followed by {@code BertPreTokenizer}
 * (and, for lower-cased vocabularies, the original {@code BasicTokenizer} of bert-base-uncased):
 * <ol>
 *   <li>clean: drop NUL, U+FFFD and control characters (categories Cc, Cf, Co, Cn, except tab, LF and CR), turn
 *       every white-space character into a space;</li>
 *   <li>surround each CJK ideograph with spaces, so each becomes a word of its own;</li>
 *   <li>strip accents: NFD, then drop non-spacing marks (Mn);</li>
 *   <li>lower-case;</li>
 *   <li>split on white space, and split off every punctuation character (ASCII 33–47, 58–64, 91–96, 123–126 and
 *       the Unicode P* categories) as a word of its own.</li>
 * </ol>
 * The order (accents before case) and the per-character lower-casing are those of the Rust implementation, which
 * the test fixtures were made with. Which code points count as unassigned (Cn) follows the JDK's Unicode version.
 */
final class BertNormalizer {
    private final boolean lowercase;
    private final boolean stripAccents;

    BertNormalizer(boolean lowercase, boolean stripAccents) {
        this.lowercase = lowercase;
        this.stripAccents = stripAccents;
    }

    /** The words of {@code text}, normalised, in order; never null, empty for blank text. */
    List<String> words(String text) {
        String s = spaceCjk(clean(text));
        if (stripAccents) {
            s = stripAccents(s);
        }
        if (lowercase) {
            s = lower(s);
        }
        return split(s);
    }

    static String clean(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (c == 0 || c == 0xFFFD || isControl(c)) {
                return;
            }
            out.appendCodePoint(isWhitespace(c) ? ' ' : c);
        });
        return out.toString();
    }

    static String spaceCjk(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (isCjk(c)) {
                out.append(' ').appendCodePoint(c).append(' ');
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    static String stripAccents(String text) {
        String nfd = Normalizer.normalize(text, Normalizer.Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        nfd.codePoints().filter(c -> Character.getType(c) != Character.NON_SPACING_MARK).forEach(out::appendCodePoint);
        return out.toString();
    }

    /**
     * Per code point, like Rust's {@code char::to_lowercase}: no context-dependent rules, so a final capital sigma
     * becomes σ, not ς as {@link String#toLowerCase} would make it.
     */
    static String lower(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> out.appendCodePoint(Character.toLowerCase(c)));
        return out.toString();
    }

    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (c == ' ' || isWhitespace(c)) {
                flush(word, words);
            } else if (isPunctuation(c)) {
                flush(word, words);
                words.add(Character.toString(c));
            } else {
                word.appendCodePoint(c);
            }
        });
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** Unicode's White_Space property (what Rust's {@code char::is_whitespace} tests). */
    static boolean isWhitespace(int c) {
        return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /** Categories C* except tab, LF and CR, which count as white space. */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.UNASSIGNED,
                    Character.SURROGATE -> true;
            default -> false;
        };
    }

    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul, which BERT keeps as words). */
    static boolean isCjk(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }
}
