package ai.pela.zoo.engine;

/**
 * Float64 references for the kernel tests, computed independently of both implementations: erf from its Maclaurin
 * series (|x| < 2.5) and erfc from its continued fraction (|x| ≥ 2.5, evaluated bottom-up with 200 terms).
 */
public final class ReferenceMath {
    private static final double TWO_OVER_SQRT_PI = 1.1283791670955125739;
    private static final double INV_SQRT_PI = 0.56418958354775628695;

    private ReferenceMath() {
    }

    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double y = Math.abs(x);
        double value = y < 2.5 ? series(y) : 1 - erfcFraction(y);
        return Math.copySign(value, x);
    }

    /** Φ(x) = erfc(−x/√2)/2, relative-accurate in the lower tail. */
    public static double normalCdf(double x) {
        double z = -x / Math.sqrt(2);
        if (z >= 2.5) {
            return 0.5 * erfcFraction(z);
        }
        return 0.5 * (1 - erf(z));
    }

    public static double normalDensity(double x) {
        return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    }

    private static double series(double x) {
        double term = x;
        double sum = x;
        double x2 = x * x;
        for (int n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
            term *= -x2 / n;
            sum += term / (2 * n + 1);
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    /** erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) for x ≥ 2.5. */
    private static double erfcFraction(double x) {
        double f = x;
        for (int k = 200; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) * INV_SQRT_PI / f;
    }
}
