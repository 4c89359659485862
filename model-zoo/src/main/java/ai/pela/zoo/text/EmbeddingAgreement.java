package ai.pela.zoo.text;

import java.util.Arrays;

/**
 * How closely a student's sentence embeddings follow a teacher's on the same sentences: the mean cosine similarity
 * of each sentence's two embeddings, and whether retrieval among the sentences themselves gives the same answers.
 * For each sentence as a query, the other sentences are ranked by cosine similarity (embeddings L2-normalised):
 * top-1 agreement is the fraction of queries whose nearest neighbour is the same for both; R@k is the fraction
 * whose teacher nearest neighbour is among the student's top k (the teacher's answer as the gold).
 */
public record EmbeddingAgreement(int sentences, double meanCosine, double minCosine, double top1, double recallAt5,
        double recallAt10) {

    /** @param teacher, student [n][d] L2-normalised embeddings of the same n ≥ 2 sentences */
    public static EmbeddingAgreement of(float[][] teacher, float[][] student) {
        int n = teacher.length;
        if (n < 2 || student.length != n) {
            throw new IllegalArgumentException("need the same n >= 2 sentences, got " + n + " and " + student.length);
        }
        double cosSum = 0;
        double cosMin = Double.POSITIVE_INFINITY;
        int top1 = 0;
        int at5 = 0;
        int at10 = 0;
        for (int q = 0; q < n; q++) {
            double c = dot(teacher[q], student[q]);
            cosSum += c;
            cosMin = Math.min(cosMin, c);
            int gold = ranking(teacher, q)[0];
            int rank = position(ranking(student, q), gold);
            top1 += rank == 0 ? 1 : 0;
            at5 += rank < 5 ? 1 : 0;
            at10 += rank < 10 ? 1 : 0;
        }
        return new EmbeddingAgreement(n, cosSum / n, cosMin, (double) top1 / n, (double) at5 / n, (double) at10 / n);
    }

    /** The other sentences by decreasing similarity to sentence q (ties by index). */
    static int[] ranking(float[][] e, int q) {
        Integer[] order = new Integer[e.length - 1];
        for (int i = 0, j = 0; i < e.length; i++) {
            if (i != q) {
                order[j++] = i;
            }
        }
        double[] sim = new double[e.length];
        for (int i = 0; i < e.length; i++) {
            sim[i] = dot(e[q], e[i]);
        }
        Arrays.sort(order, (a, b) -> sim[a] != sim[b] ? Double.compare(sim[b], sim[a]) : Integer.compare(a, b));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    private static int position(int[] order, int item) {
        for (int i = 0; i < order.length; i++) {
            if (order[i] == item) {
                return i;
            }
        }
        throw new IllegalStateException("item " + item + " not ranked");
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
