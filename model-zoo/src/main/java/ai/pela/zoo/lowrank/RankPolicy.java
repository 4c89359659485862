package ai.pela.zoo.lowrank;

import ai.pela.zoo.PelaException;

/**
 * How the surgery picks each decomposed Linear's rank: PELA's one compression ratio for every Linear, or a parameter
 * budget spread over the Linears by {@link RankBudget} (issue 24).
 */
public sealed interface RankPolicy {
    /** PELA's rule: r = floor(d_in·d_out / (κ·(d_in + d_out))) for every Linear. */
    record Uniform(double kappa) implements RankPolicy {
        public Uniform {
            LowRank.checkKappa(kappa);
        }
    }

    /** The factors of all decomposed Linears together hold {@code share} of their dense weights' parameters. */
    record Budget(double share) implements RankPolicy {
        public Budget {
            checkShare(share);
        }

        static void checkShare(double share) {
            if (!(share > 0 && share <= 1)) {
                throw new PelaException("param-budget must be a share of the decomposable parameters in (0, 1], got " + share);
            }
        }
    }
}
