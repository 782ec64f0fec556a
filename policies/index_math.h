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
// n · kl(p, q) <= budget, to within 1e-10. Solved by Newton's method from the
// Pinsker upper bound p + sqrt(budget / 2n) (kl(p, ·) is convex and increasing
// on [p, 1], so the iterates fall monotonically onto the root), safeguarded by
// bisection. REQUIRES: p in [0, 1], n > 0, budget >= 0.
double KlUcbBound(double p, double n, double budget);

// The KL-UCB exploration budget ln t + c ln ln t; ln ln t counts as 0 while
// t < e (where it is negative or undefined), and the budget is never negative.
double KlUcbBudget(double t, double c);

}  // namespace banditd::policies
