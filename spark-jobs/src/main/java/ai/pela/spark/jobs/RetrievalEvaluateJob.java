package ai.pela.spark.jobs;

import ai.pela.spark.data.BadImagePolicy;
import ai.pela.spark.data.BatchLoader;
import ai.pela.spark.data.ImageTransform;
import ai.pela.spark.data.RetrievalEvalSet;
import ai.pela.spark.data.Sample;
import ai.pela.spark.eval.RetrievalMetrics;
import ai.pela.spark.io.SerializableConf;
import ai.pela.spark.io.Weights;
import ai.pela.spark.train.Fingerprint;
import ai.pela.zoo.albef.AlbefConfig;
import ai.pela.zoo.albef.AlbefRetrievalModel;
import ai.pela.zoo.io.StateDict;
import ai.pela.zoo.text.BertTokenizer;
import ai.pela.zoo.text.CaptionText;
import ai.pela.zoo.text.TokenBatch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code evaluate --task coco-retrieval}: ALBEF's retrieval evaluation (Retrieval.py {@code evaluation} +
 * {@code itm_eval}) on Spark. Four distributed stages, the driver holding only features, ranks and top-k lists:
 * <ol>
 *   <li>image features: tasks decode their slice of the images, ITC features [E] back to the driver;</li>
 *   <li>text features: tasks tokenise their slice of the captions, ITC features back;</li>
 *   <li>ITC ranking: both feature matrices broadcast (E floats per item); a task ranks its images over all texts
 *       and its texts over all images: the gold's rank and the top k candidates;</li>
 *   <li>ITM re-ranking (k &gt; 0): every (image, text) pair that is in an image's top k texts or a text's top k images
 *       is scored once by the fusion layers and {@code itm_head}, in tasks grouped by image (each decodes its images
 *       once and encodes the captions its pairs need); the driver ranks each query's k candidates by these scores,
 *       every other candidate keeping ALBEF's fill value −100.</li>
 * </ol>
 * A listed image that is missing or corrupt fails the job, naming it: retrieval ranks over every image, a skipped
 * one would silently change every recall.
 */
public final class RetrievalEvaluateJob {
    /** ALBEF initialises its re-ranked score matrices with this; candidates outside the top k keep it. */
    public static final float FILL = -100f;

    /** The model: its config and the Hadoop path of its safetensors checkpoint. */
    public record ModelRef(AlbefConfig config, String weights, SerializableConf hadoop) implements Serializable {
    }

    /**
     * @param kTest      ALBEF's k_test: ITM re-ranks each query's top k (256 for COCO); 0 ranks by ITC alone
     * @param textLength caption tokens ([CLS] … [SEP], padded): 30 in ALBEF's retrieval
     * @param maxWords   pre_caption's word limit: 30
     */
    public record Settings(int batchSize, int partitions, int kTest, int textLength, int maxWords)
            implements Serializable {
    }

    /** The metrics, each query's final 0-based rank, and how long each part took. */
    public record Result(RetrievalMetrics metrics, int[] i2tRanks, int[] t2iRanks, String ranking, double encodeSeconds,
            double rankSeconds, double seconds) {
    }

    /** One query's ITC outcome: its index, its gold's rank and its top-k candidates (best first). */
    record Ranked(int query, int rank, int[] top) implements Serializable {
    }

    /** ITM scores of one image with the texts paired with it (texts ascending). */
    record PairScores(int image, int[] texts, float[] scores) implements Serializable {
    }

    private static final Map<String, AlbefRetrievalModel> MODELS = new ConcurrentHashMap<>();

    private RetrievalEvaluateJob() {
    }

    public static Result run(JavaSparkContext sc, ModelRef model, RetrievalEvalSet set, Settings s) {
        long t0 = System.nanoTime();
        float[][] imageFeat = imageFeatures(sc, model, set.images(), s);
        float[][] textFeat = textFeatures(sc, model, set.texts(), s);
        long t1 = System.nanoTime();
        Broadcast<float[][]> images = sc.broadcast(imageFeat);
        Broadcast<float[][]> texts = sc.broadcast(textFeat);
        Broadcast<int[][]> img2txt = sc.broadcast(set.img2txt());
        Broadcast<int[]> txt2img = sc.broadcast(set.txt2img());
        int kI2T = Math.min(s.kTest(), set.texts().size());
        int kT2I = Math.min(s.kTest(), set.images().size());
        List<Ranked> i2t = sc.parallelize(indices(set.images().size()), s.partitions())
                .mapPartitions(it -> rankAll(it, images.value(), texts.value(), q -> img2txt.value()[q], kI2T))
                .collect();
        List<Ranked> t2i = sc.parallelize(indices(set.texts().size()), s.partitions())
                .mapPartitions(it -> rankAll(it, texts.value(), images.value(), q -> new int[] {txt2img.value()[q]}, kT2I))
                .collect();
        List.of(images, texts, img2txt, txt2img).forEach(Broadcast::destroy);
        int[] i2tRanks = new int[set.images().size()];
        int[] t2iRanks = new int[set.texts().size()];
        String ranking = "itc";
        if (s.kTest() > 0) {
            ranking = "itc+itm(k=" + s.kTest() + ")";
            PairScores[] scores = itmScores(sc, model, set, s, i2t, t2i);
            for (Ranked r : i2t) {
                i2tRanks[r.query()] = reRank(set.texts().size(), r.top(), t -> score(scores[r.query()], t),
                        set.img2txt()[r.query()]);
            }
            for (Ranked r : t2i) {
                int t = r.query();
                t2iRanks[t] = reRank(set.images().size(), r.top(), i -> score(scores[i], t), new int[] {set.txt2img()[t]});
            }
        } else {
            i2t.forEach(r -> i2tRanks[r.query()] = r.rank());
            t2i.forEach(r -> t2iRanks[r.query()] = r.rank());
        }
        long t2 = System.nanoTime();
        return new Result(RetrievalMetrics.fromRanks(i2tRanks, t2iRanks), i2tRanks, t2iRanks, ranking, (t1 - t0) / 1e9,
                (t2 - t1) / 1e9, (t2 - t0) / 1e9);
    }

    /** Reads the config's model from its Hadoop path once per executor JVM. */
    static AlbefRetrievalModel model(ModelRef ref, int textLength) {
        return MODELS.computeIfAbsent(ref.weights() + "|" + Fingerprint.of(ref.config()) + "|" + textLength, k -> {
            StateDict w = Weights.read(ref.hadoop().storage(), ref.weights());
            return AlbefRetrievalModel.create(ref.config(), w, textLength, ref.weights());
        });
    }

    // ---- stage 1 and 2: features ----

    /** ALBEF's test transform at the model's image size, normalised with the model's mean and std. */
    static ImageTransform transform(ModelRef ref) {
        var v = ref.config().vision();
        return ImageTransform.evalSquash(v.imgSize(), v.mean().stream().mapToDouble(Double::doubleValue).toArray(),
                v.std().stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static float[][] imageFeatures(JavaSparkContext sc, ModelRef ref, List<Sample> images, Settings s) {
        List<List<Sample>> chunks = chunks(images, s.batchSize());
        ImageTransform transform = transform(ref);
        List<float[][]> parts = sc.parallelize(chunks, partitions(s, chunks.size())).mapPartitions(it -> {
            AlbefRetrievalModel m = model(ref, s.textLength());
            List<float[][]> out = new ArrayList<>();
            try (BatchLoader loader = new BatchLoader(ref.hadoop().storage(), transform, BadImagePolicy.FAIL)) {
                while (it.hasNext()) {
                    BatchLoader.Batch b = loader.load(it.next());
                    out.add(withIndex(b.labels(), m.images(b.images()).feat()));
                }
            }
            return out.iterator();
        }).collect();
        return assemble(parts, images.size());
    }

    private static float[][] textFeatures(JavaSparkContext sc, ModelRef ref, List<String> texts, Settings s) {
        List<int[]> chunks = new ArrayList<>();
        for (int from = 0; from < texts.size(); from += s.batchSize()) {
            chunks.add(new int[] {from, Math.min(texts.size(), from + s.batchSize())});
        }
        Broadcast<List<String>> all = sc.broadcast(texts);
        List<float[][]> parts = sc.parallelize(chunks, partitions(s, chunks.size())).mapPartitions(it -> {
            AlbefRetrievalModel m = model(ref, s.textLength());
            List<float[][]> out = new ArrayList<>();
            while (it.hasNext()) {
                int[] range = it.next();
                int[] index = new int[range[1] - range[0]];
                Arrays.setAll(index, i -> range[0] + i);
                out.add(withIndex(index, m.texts(tokens(all.value(), index, s)).feat()));
            }
            return out.iterator();
        }).collect();
        all.destroy();
        return assemble(parts, texts.size());
    }

    /** ALBEF's pre_caption, then [CLS] … [SEP] padded to the graph's length. */
    static TokenBatch tokens(List<String> texts, int[] index, Settings s) {
        List<String> captions = new ArrayList<>(index.length);
        for (int t : index) {
            captions.add(CaptionText.preCaption(texts.get(t), s.maxWords()));
        }
        return BertTokenizer.bertBaseUncased().encodeBatch(captions, s.textLength(), BertTokenizer.Padding.MAX_LENGTH);
    }

    /** Rows [index, f0, f1 …] as floats: a compact result for collect(). Indices stay exact below 2^24. */
    private static float[][] withIndex(int[] index, INDArray feat) {
        float[][] rows = new float[index.length][];
        for (int i = 0; i < index.length; i++) {
            float[] f = feat.getRow(i).toFloatVector();
            rows[i] = new float[f.length + 1];
            rows[i][0] = index[i];
            System.arraycopy(f, 0, rows[i], 1, f.length);
        }
        return rows;
    }

    private static float[][] assemble(List<float[][]> parts, int n) {
        float[][] out = new float[n][];
        for (float[][] part : parts) {
            for (float[] row : part) {
                out[(int) row[0]] = Arrays.copyOfRange(row, 1, row.length);
            }
        }
        for (int i = 0; i < n; i++) {
            if (out[i] == null) {
                throw new IllegalStateException("no feature came back for item " + i);
            }
        }
        return out;
    }

    // ---- stage 3: ITC ranking ----

    interface Golds extends Serializable {
        int[] of(int query);
    }

    /** Each query's row of similarities (dot products of unit features) over all candidates. */
    static Iterator<Ranked> rankAll(Iterator<Integer> queries, float[][] query, float[][] candidates, Golds golds,
            int k) {
        List<Integer> qs = new ArrayList<>();
        queries.forEachRemaining(qs::add);
        List<Ranked> out = new ArrayList<>();
        if (qs.isEmpty()) {
            return out.iterator();
        }
        INDArray c = Nd4j.createFromArray(candidates);
        for (int from = 0; from < qs.size(); from += 256) {
            List<Integer> block = qs.subList(from, Math.min(qs.size(), from + 256));
            float[][] rows = new float[block.size()][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = query[block.get(i)];
            }
            INDArray sims = Nd4j.createFromArray(rows).mmul(c.transpose());
            for (int i = 0; i < rows.length; i++) {
                float[] row = sims.getRow(i).toFloatVector();
                int q = block.get(i);
                out.add(new Ranked(q, RetrievalMetrics.bestRank(row, golds.of(q)), top(row, k)));
            }
        }
        return out.iterator();
    }

    /** The indices of the k largest scores, best first (ties by index). */
    static int[] top(float[] row, int k) {
        if (k <= 0) {
            return new int[0];
        }
        Integer[] order = new Integer[row.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> row[a] != row[b] ? Float.compare(row[b], row[a]) : Integer.compare(a, b));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = order[i];
        }
        return out;
    }

    // ---- stage 4: ITM re-ranking ----

    /** The ITM score of every pair some query re-ranks, indexed by image. */
    private static PairScores[] itmScores(JavaSparkContext sc, ModelRef ref, RetrievalEvalSet set, Settings s,
            List<Ranked> i2t, List<Ranked> t2i) {
        List<TreeSet<Integer>> pairs = new ArrayList<>();
        set.images().forEach(i -> pairs.add(new TreeSet<>()));
        i2t.forEach(r -> Arrays.stream(r.top()).forEach(t -> pairs.get(r.query()).add(t)));
        t2i.forEach(r -> Arrays.stream(r.top()).forEach(i -> pairs.get(i).add(r.query())));
        List<List<Object[]>> chunks = new ArrayList<>();
        List<Object[]> chunk = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            chunk.add(new Object[] {set.images().get(i), pairs.get(i).stream().mapToInt(Integer::intValue).toArray()});
            if (chunk.size() == s.batchSize() || i == pairs.size() - 1) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
            }
        }
        Broadcast<List<String>> texts = sc.broadcast(set.texts());
        ImageTransform transform = transform(ref);
        List<PairScores> scored = sc.parallelize(chunks, partitions(s, chunks.size())).mapPartitions(it -> {
            AlbefRetrievalModel m = model(ref, s.textLength());
            List<PairScores> out = new ArrayList<>();
            try (BatchLoader loader = new BatchLoader(ref.hadoop().storage(), transform, BadImagePolicy.FAIL)) {
                while (it.hasNext()) {
                    out.addAll(scoreChunk(m, loader, it.next(), texts.value(), s));
                }
            }
            return out.iterator();
        }).collect();
        texts.destroy();
        PairScores[] byImage = new PairScores[set.images().size()];
        scored.forEach(p -> byImage[p.image()] = p);
        return byImage;
    }

    /** One chunk of images: decode them once, encode the captions their pairs need, score the pairs in batches. */
    private static List<PairScores> scoreChunk(AlbefRetrievalModel m, BatchLoader loader, List<Object[]> chunk,
            List<String> texts, Settings s) {
        List<Sample> samples = new ArrayList<>();
        TreeSet<Integer> needed = new TreeSet<>();
        for (Object[] c : chunk) {
            samples.add((Sample) c[0]);
            Arrays.stream((int[]) c[1]).forEach(needed::add);
        }
        INDArray imageEmbeds = m.images(loader.load(samples).images()).embeds();
        int[] textIndex = needed.stream().mapToInt(Integer::intValue).toArray();
        TextRows rows = TextRows.encode(m, texts, textIndex, s);
        List<PairScores> out = new ArrayList<>();
        for (int c = 0; c < chunk.size(); c++) {
            int[] paired = (int[]) chunk.get(c)[1];
            float[] scores = new float[paired.length];
            INDArray image = imageEmbeds.get(NDArrayIndex.interval(c, c + 1), NDArrayIndex.all(), NDArrayIndex.all());
            for (int from = 0; from < paired.length; from += s.batchSize()) {
                int[] part = Arrays.copyOfRange(paired, from, Math.min(paired.length, from + s.batchSize()));
                INDArray images = image.repeat(0, part.length);
                float[] v = m.itmScores(images, rows.embeds(part), rows.mask(part)).toFloatVector();
                System.arraycopy(v, 0, scores, from, v.length);
            }
            out.add(new PairScores(((Sample) chunk.get(c)[0]).label(), paired, scores));
        }
        return out;
    }

    /** Text embeddings and masks of the captions one task needs, looked up by caption index. */
    private record TextRows(int[] index, INDArray embeds, INDArray mask) {
        static TextRows encode(AlbefRetrievalModel m, List<String> texts, int[] index, Settings s) {
            List<INDArray> embeds = new ArrayList<>();
            List<INDArray> masks = new ArrayList<>();
            for (int from = 0; from < index.length; from += s.batchSize()) {
                int[] part = Arrays.copyOfRange(index, from, Math.min(index.length, from + s.batchSize()));
                TokenBatch b = tokens(texts, part, s);
                embeds.add(m.texts(b).embeds());
                masks.add(b.maskArray(org.nd4j.linalg.api.buffer.DataType.FLOAT));
            }
            return new TextRows(index, Nd4j.concat(0, embeds.toArray(INDArray[]::new)),
                    Nd4j.concat(0, masks.toArray(INDArray[]::new)));
        }

        INDArray embeds(int[] texts) {
            long l = embeds.size(1);
            long h = embeds.size(2);
            return Nd4j.pullRows(embeds.reshape(embeds.size(0), l * h), 1, rows(texts)).reshape(texts.length, l, h);
        }

        INDArray mask(int[] texts) {
            return Nd4j.pullRows(mask, 1, rows(texts));
        }

        private int[] rows(int[] texts) {
            int[] r = new int[texts.length];
            for (int i = 0; i < texts.length; i++) {
                r[i] = Arrays.binarySearch(index, texts[i]);
            }
            return r;
        }
    }

    interface Scores {
        float of(int candidate);
    }

    /** The best gold's rank in a row where the top-k candidates carry ITM scores and every other entry {@link #FILL}. */
    static int reRank(int size, int[] top, Scores score, int[] golds) {
        float[] s = new float[top.length];
        for (int j = 0; j < top.length; j++) {
            s[j] = score.of(top[j]);
        }
        int best = Integer.MAX_VALUE;
        for (int g : golds) {
            best = Math.min(best, RetrievalMetrics.sparseRank(size, top, s, FILL, g));
        }
        return best;
    }

    private static float score(PairScores p, int text) {
        int j = Arrays.binarySearch(p.texts(), text);
        if (j < 0) {
            throw new IllegalStateException("pair (" + p.image() + ", " + text + ") was not scored");
        }
        return p.scores()[j];
    }

    private static List<Integer> indices(int n) {
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    private static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) {
            out.add(List.copyOf(items.subList(i, Math.min(items.size(), i + size))));
        }
        return out;
    }

    private static int partitions(Settings s, int chunks) {
        return Math.max(1, Math.min(s.partitions(), chunks));
    }
}
