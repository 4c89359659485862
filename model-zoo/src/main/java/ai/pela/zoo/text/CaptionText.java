package ai.pela.zoo.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * ALBEF's caption clean-up ({@code pre_caption} of its dataset/utils.py), applied to every caption before the
 * tokenizer sees it, in pre-training and retrieval alike: lower-case; drop {@code , . ' ! ? " ( ) * # : ; ~};
 * '-' and '/' become spaces and {@code <person>} becomes "person" (a Flickr30k-Entities placeholder); runs of
 * white space collapse to one space; trailing newlines and surrounding spaces go; then at most {@code maxWords}
 * space-separated words are kept (30 in all of ALBEF's configurations).
 */
public final class CaptionText {
    /** ALBEF's max_words. */
    public static final int ALBEF_MAX_WORDS = 30;
    /** ALBEF's Pretrain.py tokenises with max_length=25; Retrieval.py with max_length=30. */
    public static final int ALBEF_PRETRAIN_MAX_TOKENS = 25;
    public static final int ALBEF_RETRIEVAL_MAX_TOKENS = 30;

    private static final Pattern DROPPED = Pattern.compile("[,.'!?\"()*#:;~]");
    private static final Pattern SPACES = Pattern.compile("\\s{2,}", Pattern.UNICODE_CHARACTER_CLASS);

    private CaptionText() {
    }

    public static String preCaption(String caption, int maxWords) {
        if (maxWords < 1) {
            throw new IllegalArgumentException("maxWords must be at least 1, got " + maxWords);
        }
        String s = DROPPED.matcher(caption.toLowerCase(Locale.ROOT)).replaceAll("")
                .replace('-', ' ').replace('/', ' ').replace("<person>", "person");
        s = SPACES.matcher(s).replaceAll(" ");
        s = stripChar(s, '\n', false);
        s = stripChar(stripChar(s, ' ', true), ' ', false);
        String[] words = s.split(" ", -1);
        return words.length > maxWords ? String.join(" ", List.of(words).subList(0, maxWords)) : s;
    }

    /** {@link #preCaption} on each caption, then {@link BertTokenizer#encodeBatch}. */
    public static TokenBatch encode(BertTokenizer tokenizer, List<String> captions, int maxWords, int maxTokens,
            BertTokenizer.Padding padding) {
        List<String> clean = new ArrayList<>(captions.size());
        for (String c : captions) {
            clean.add(preCaption(c, maxWords));
        }
        return tokenizer.encodeBatch(clean, maxTokens, padding);
    }

    /** Python's {@code str.lstrip(c)} / {@code str.rstrip(c)} for one character. */
    private static String stripChar(String s, char c, boolean leading) {
        int from = 0;
        int to = s.length();
        if (leading) {
            while (from < to && s.charAt(from) == c) {
                from++;
            }
        } else {
            while (to > from && s.charAt(to - 1) == c) {
                to--;
            }
        }
        return s.substring(from, to);
    }
}
