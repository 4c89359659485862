package ai.pela.zoo.text;

import ai.pela.zoo.PelaException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A WordPiece vocabulary and the options of the tokenizer that goes with it, read from a Hugging Face
 * {@code tokenizer.json} (model type WordPiece, normalizer BertNormalizer) or from a BERT {@code vocab.txt} (one
 * token per line, the id being the line number). Ids must be 0..n−1 without gaps, and the five special tokens
 * must be present, so a token id always indexes a row of the model's embedding matrix.
 */
record WordPieceVocab(String[] tokens, Map<String, Integer> ids, String unk, String prefix, int maxWordChars,
        boolean lowercase, boolean stripAccents) {
    static final List<String> SPECIALS = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]");
    /** bert-base-uncased's tokenizer.json is 0.7 MB; anything near this bound is not a vocabulary. */
    static final int MAX_BYTES = 64 << 20;
    private static final int MAX_DEPTH = 32;

    int size() {
        return tokens.length;
    }

    int id(String token) {
        Integer id = ids.get(token);
        if (id == null) {
            throw new IllegalStateException("token " + token + " is not in the vocabulary");
        }
        return id;
    }

    /** A tokenizer.json or a vocab.txt, told apart by the first non-blank character. */
    static WordPieceVocab parse(byte[] data, String source) {
        if (data.length > MAX_BYTES) {
            throw new PelaException(source + ": " + data.length + " bytes exceeds the limit of " + MAX_BYTES
                    + " for a vocabulary");
        }
        String text = utf8(data, source);
        return text.stripLeading().startsWith("{") ? fromTokenizerJson(text, source) : fromVocabTxt(text, source);
    }

    /** One token per line, as BERT's vocab.txt; always an uncased vocabulary (lower-case, strip accents). */
    static WordPieceVocab fromVocabTxt(String text, String source) {
        String[] lines = text.split("\r?\n", -1);
        int n = lines.length > 0 && lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
        Map<String, Integer> ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            if (ids.putIfAbsent(lines[i], i) != null) {
                throw new PelaException(source + ": line " + (i + 1) + ": token '" + lines[i] + "' appears twice");
            }
        }
        return build(ids, "[UNK]", "##", 100, true, true, source);
    }

    static WordPieceVocab fromTokenizerJson(String text, String source) {
        JsonNode root = readJson(text, source);
        JsonNode model = root.path("model");
        if (!"WordPiece".equals(model.path("type").asText())) {
            throw new PelaException(source + ": model.type is '" + model.path("type").asText()
                    + "', not WordPiece: not a BERT tokenizer");
        }
        JsonNode norm = root.path("normalizer");
        if (!norm.isMissingNode() && !norm.isNull() && !"BertNormalizer".equals(norm.path("type").asText())) {
            throw new PelaException(source + ": normalizer.type is '" + norm.path("type").asText()
                    + "', not BertNormalizer");
        }
        boolean lowercase = norm.path("lowercase").asBoolean(true);
        JsonNode strip = norm.path("strip_accents");
        boolean stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase; // null: follows lowercase
        return build(vocab(model.path("vocab"), source), model.path("unk_token").asText("[UNK]"),
                model.path("continuing_subword_prefix").asText("##"),
                model.path("max_input_chars_per_word").asInt(100), lowercase, stripAccents, source);
    }

    private static Map<String, Integer> vocab(JsonNode vocab, String source) {
        if (!vocab.isObject() || vocab.isEmpty()) {
            throw new PelaException(source + ": model.vocab is not a non-empty map of token to id");
        }
        Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
                throw new PelaException(source + ": model.vocab['" + e.getKey() + "'] is not an integer id");
            }
            ids.put(e.getKey(), e.getValue().intValue());
        }
        return ids;
    }

    private static WordPieceVocab build(Map<String, Integer> ids, String unk, String prefix, int maxWordChars,
            boolean lowercase, boolean stripAccents, String source) {
        String[] tokens = new String[ids.size()];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            int id = e.getValue();
            if (id < 0 || id >= tokens.length || tokens[id] != null) {
                throw new PelaException(source + ": token '" + e.getKey() + "' has id " + id + ", which is "
                        + (id < 0 || id >= tokens.length ? "outside 0.." + (tokens.length - 1) : "taken twice"));
            }
            tokens[id] = e.getKey();
        }
        for (String special : SPECIALS) {
            if (!ids.containsKey(special)) {
                throw new PelaException(source + ": the vocabulary has no " + special + " token");
            }
        }
        if (!ids.containsKey(unk) || maxWordChars < 1) {
            throw new PelaException(source + ": unknown-token '" + unk + "' missing from the vocabulary or "
                    + "max_input_chars_per_word " + maxWordChars + " < 1");
        }
        return new WordPieceVocab(tokens, Map.copyOf(ids), unk, prefix, maxWordChars, lowercase, stripAccents);
    }

    private static JsonNode readJson(String text, String source) {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
                .build();
        try {
            return new ObjectMapper(factory).readTree(text);
        } catch (JsonProcessingException e) {
            throw new PelaException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String utf8(byte[] data, String source) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(data))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new PelaException(source + ": not UTF-8 text", e);
        }
    }
}
