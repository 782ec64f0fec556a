// Pure index formulas of UCB1 and KL-UCB, kept apart from the policies so
// they can be checked against hand-computed values.
#pragma once

namespace banditd::policies {

// UCB1 (Auer, Cesa-Bianchi & Fischer 2002): mean + sqrt(2 ln t / n).
// REQUIRES: n >= 1, t >= n.
double Ucb1Index(double n, double sum, double t);

// Bernoulli Kullback-Leibler divergence kl(p, q) = p ln(p/q) + (1-p) ln((1-p)/(1-q)),
// with 0 ln 0 = 0; +inf when q is 0 or 1 and p is not. REQUIRES: p, q in [0, 1].
double KlBernoulli(double p, double q);

// KL-UCB upper bound (Garivier & Cappé 2011): the largest q in [p, 1] with
// n · kl(p, q) <= budget, to within 1e-10. Solved by Newton's method from
// KlUcbUpperBound (kl(p, ·) is convex and increasing on [p, 1], so the
// iterates fall monotonically onto the root), safeguarded by bisection.
// REQUIRES: p in [0, 1], n > 0, budget >= 0.
double KlUcbBound(double p, double n, double budget);

// A cheap upper bound on KlUcbBound(p, n, budget) (square roots only, plus
// one exp/log when the others reach 1): the root of the tightest of
//   kl(p, q) >= 2 (q - p)^2              (Pinsker),
//   kl(p, q) >= (q - p)^2 / (2q)         and its mirror (q - p)^2 / (2 (1 - p)),
//   kl(p, q) >= p ln p + (1 - p) ln((1 - p) / (1 - q)),
// valid for q >= p. Lets a KL-UCB policy skip the root-finding for arms that
// cannot have the highest index. Same REQUIRES as KlUcbBound.
double KlUcbUpperBound(double p, double n, double budget);

// The KL-UCB exploration budget ln t + c ln ln t; ln ln t counts as 0 while
// t < e (where it is negative or undefined), and the budget is never negative.
double KlUcbBudget(double t, double c);

}  // namespace banditd::policies
