package ai.pela.zoo.engine.cpu;

/**
 * Φ(x) and GELU's slope Φ(x) + x·φ(x) as piecewise cubics on [−8, 8] with step 1/32, built once from {@link Erf}
 * (Cody) by Hermite interpolation, which matches value and derivative at every knot. The error of a cubic Hermite
 * piece is at most h⁴/384·max|f⁗|: 1.4e-9 for Φ (|Φ⁗| ≤ 0.55) and 7e-9 for the slope (|f⁗| ≤ 2.7), far below float
 * resolution. Why a table: Cody's three branches and its exp cost ~20 ns per element in a loop over normally
 * distributed inputs (branch misses); a table piece is one index, four adjacent loads and three multiply-adds.
 * Below −8, Φ < 7e-16 and both functions are taken as 0 (GELU's limit); above 8 the last piece is used (1 − 7e-16).
 */
final class GeluTables {
    private static final double LOW = -8;
    private static final double STEPS_PER_UNIT = 32;
    private static final int PIECES = (int) (-2 * LOW * STEPS_PER_UNIT);
    private static final double INV_SQRT_2PI = 0.39894228040143267794;
    /** Largest table coordinate: clamps x ≥ 8 (and +∞) into the last piece. */
    private static final double LAST = PIECES - 1e-9;

    /** Four coefficients per piece, c0 + u·(c1 + u·(c2 + u·c3)) with u ∈ [0, 1) the position inside the piece. */
    private static final double[] CDF = pieces(false);
    private static final double[] SLOPE = pieces(true);

    private GeluTables() {
    }

    /** Φ(x); 0 below −8, NaN for NaN. */
    static double normalCdf(double x) {
        return x < LOW ? 0 : evaluate(CDF, x);
    }

    /** d/dx [x·Φ(x)] = Φ(x) + x·φ(x); 0 below −8, NaN for NaN. */
    static double geluSlope(double x) {
        return x < LOW ? 0 : evaluate(SLOPE, x);
    }

    private static double evaluate(double[] table, double x) {
        double t = Math.min((x - LOW) * STEPS_PER_UNIT, LAST);
        int piece = (int) t;
        double u = t - piece;
        int i = piece << 2;
        return table[i] + u * (table[i + 1] + u * (table[i + 2] + u * table[i + 3]));
    }

    private static double[] pieces(boolean slope) {
        double h = 1 / STEPS_PER_UNIT;
        double[] table = new double[PIECES * 4];
        for (int p = 0; p < PIECES; p++) {
            double x0 = LOW + p * h;
            double x1 = x0 + h;
            double f0 = slope ? slope(x0) : Erf.normalCdf(x0);
            double f1 = slope ? slope(x1) : Erf.normalCdf(x1);
            double d0 = h * (slope ? slopeDerivative(x0) : density(x0));
            double d1 = h * (slope ? slopeDerivative(x1) : density(x1));
            // Hermite basis in power form: f(u) = f0 + d0·u + (3Δ − 2d0 − d1)·u² + (d0 + d1 − 2Δ)·u³, Δ = f1 − f0.
            double delta = f1 - f0;
            table[4 * p] = f0;
            table[4 * p + 1] = d0;
            table[4 * p + 2] = 3 * delta - 2 * d0 - d1;
            table[4 * p + 3] = d0 + d1 - 2 * delta;
        }
        return table;
    }

    private static double density(double x) {
        return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    private static double slope(double x) {
        return Erf.normalCdf(x) + x * density(x);
    }

    /** d/dx [Φ(x) + x·φ(x)] = (2 − x²)·φ(x). */
    private static double slopeDerivative(double x) {
        return (2 - x * x) * density(x);
    }
}
