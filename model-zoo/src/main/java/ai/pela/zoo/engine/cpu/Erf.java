package ai.pela.zoo.engine.cpu;

/**
 * The error function in double precision, from W. J. Cody, "Rational Chebyshev approximations for the error
 * function", Math. Comp. 23 (1969) 631–637, as in his CALERF routine (netlib specfun): three rational
 * approximations, on |x| ≤ 0.5 (for erf), 0.5 < |x| ≤ 4 and |x| > 4 (for erfc), each with a maximal relative error
 * near 1e-18 in exact arithmetic. CALERF splits x² before exp(−x²) to keep the last bits for very large |x|;
 * that refinement is left out here: it changes results by under 1e-13 relative, far below float precision
 * (ErfTest checks 1e-14 absolute against a series and continued-fraction reference).
 */
final class Erf {
    private static final double INV_SQRT_PI = 0.56418958354775628695;

    private static final double[] A = {3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
        3.20937758913846947e03, 1.85777706184603153e-1};
    private static final double[] B = {2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
        2.84423683343917062e03};
    private static final double[] C = {5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
        2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03,
        1.23033935479799725e03, 2.15311535474403846e-8};
    private static final double[] D = {1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
        1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03,
        1.23033935480374942e03};
    private static final double[] P = {3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
        1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2};
    private static final double[] Q = {2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
        6.05183413124413191e-2, 2.33520497626869185e-3};

    private Erf() {
    }

    static double erf(double x) {
        double y = Math.abs(x);
        if (y <= 0.5) {
            return x * smallRatio(x * x);
        }
        double tail = erfcPositive(y);
        return x < 0 ? tail - 1 : 1 - tail;
    }

    /** The standard normal distribution function Φ(x) = erfc(−x/√2)/2, accurate in both tails. */
    static double normalCdf(double x) {
        double z = x * 0.70710678118654752440;
        double y = Math.abs(z);
        if (y <= 0.5) {
            return 0.5 + 0.5 * z * smallRatio(z * z);
        }
        double half = 0.5 * erfcPositive(y);
        return z < 0 ? half : 1 - half;
    }

    /** erf(x)/x for x² ≤ 0.25. */
    private static double smallRatio(double xsq) {
        double num = A[4] * xsq;
        double den = xsq;
        for (int i = 0; i < 3; i++) {
            num = (num + A[i]) * xsq;
            den = (den + B[i]) * xsq;
        }
        return (num + A[3]) / (den + B[3]);
    }

    /** erfc(y) for y > 0.5 (NaN gives NaN, +∞ gives 0). */
    private static double erfcPositive(double y) {
        double ratio;
        if (y <= 4) {
            double num = C[8] * y;
            double den = y;
            for (int i = 0; i < 7; i++) {
                num = (num + C[i]) * y;
                den = (den + D[i]) * y;
            }
            ratio = (num + C[7]) / (den + D[7]);
        } else {
            double ysq = 1 / (y * y);
            double num = P[5] * ysq;
            double den = ysq;
            for (int i = 0; i < 4; i++) {
                num = (num + P[i]) * ysq;
                den = (den + Q[i]) * ysq;
            }
            ratio = (INV_SQRT_PI - ysq * (num + P[4]) / (den + Q[4])) / y;
        }
        return ratio * Math.exp(-y * y);
    }
}
