// The bayes rule: stop when one arm's posterior probability of being best
// reaches `threshold` and the expected loss of choosing it (Stucchio 2015) is
// at most `epsilon`. Two Bernoulli arms use the closed forms; more arms use
// Monte Carlo seeded from (seed, units seen), so a look is reproducible and a
// restored rule repeats it exactly.
#include <cmath>
#include <cstdio>
#include <limits>

#include "src/stats/bayes.h"
#include "src/stats/rule_base.h"
#include "src/stats/rules.h"

namespace banditd::stats {
namespace {

struct BayesParams {
  double threshold = 0.95;
  double epsilon = std::numeric_limits<double>::infinity();
  double prior_alpha = 1;
  double prior_beta = 1;
  double draws = 20000;
  int64_t seed = 1;
};

class Bayes final : public RuleBase {
 public:
  Bayes(const StoppingSpec& spec, CommonParams common, BayesParams p)
      : RuleBase(spec, common), p_(p) {}
  std::string_view name() const override { return "bayes"; }

 protected:
  StopDecision Evaluate() override {
    const size_t k = spec().num_arms;
    std::vector<double> p_best(k), loss(k);
    if (spec().metric == Metric::kBernoulli) {
      std::vector<BetaPosterior> post(k);
      for (size_t i = 0; i < k; ++i) {
        post[i] = {p_.prior_alpha + arms()[i].sum, p_.prior_beta + arms()[i].n - arms()[i].sum};
      }
      if (k == 2) {
        p_best[1] = ProbBetterBeta(post[0], post[1]);
        p_best[0] = 1.0 - p_best[1];
        loss[1] = ExpectedLossBeta(post[0], post[1]);
        loss[0] = ExpectedLossBeta(post[1], post[0]);
      } else {
        Rng rng = LookRng();
        MonteCarloBeta(post, static_cast<size_t>(p_.draws), rng, p_best, loss);
      }
    } else {
      std::vector<NormalPosterior> post(k);
      for (size_t i = 0; i < k; ++i) {
        const Moments m = AsMoments(i);
        post[i] = {m.mean, std::sqrt(m.variance / m.n)};
        if (!std::isfinite(post[i].sd)) {
          StopDecision d;
          d.reason = "bayes: needs at least 2 units per arm for a posterior";
          return d;
        }
      }
      if (k == 2) {
        p_best[1] = ProbBetterNormal(post[0], post[1]);
        p_best[0] = 1.0 - p_best[1];
        loss[1] = ExpectedLossNormal(post[0], post[1]);
        loss[0] = ExpectedLossNormal(post[1], post[0]);
      } else {
        Rng rng = LookRng();
        MonteCarloNormal(post, static_cast<size_t>(p_.draws), rng, p_best, loss);
      }
    }
    size_t best = 0;
    for (size_t i = 1; i < k; ++i) {
      if (p_best[i] > p_best[best]) best = i;
    }
    StopDecision d;
    d.p_value = 1.0 - p_best[best];
    char buf[220];
    const bool sure = p_best[best] >= p_.threshold;
    const bool cheap = loss[best] <= p_.epsilon;
    std::snprintf(buf, sizeof buf,
                  "arm %zu: P(best) = %.4f (needs >= %.4g), expected loss = %.3g (needs <= %.3g)",
                  best, p_best[best], p_.threshold, loss[best], p_.epsilon);
    if (sure && cheap) {
      d.stop = true;
      d.winner = best;
      d.reason = std::string("bayes: ") + buf;
    } else {
      d.reason = std::string("bayes: not yet: ") + buf;
    }
    return d;
  }

 private:
  Rng LookRng() const {
    double total = 0;
    for (const auto& a : arms()) total += a.n;
    return Rng::ForStream(static_cast<uint64_t>(p_.seed), static_cast<uint64_t>(total));
  }
  BayesParams p_;
};

}  // namespace

Result<std::unique_ptr<StoppingRule>> MakeBayes(const StoppingSpec& spec) {
  auto common = ParseCommon(
      spec, {"threshold", "epsilon", "mde", "prior_alpha", "prior_beta", "draws", "seed"});
  if (!common.ok()) return common.status();
  const std::string where = "stopping rule 'bayes'";
  BayesParams p;
  auto threshold = spec.params.GetDouble("threshold", p.threshold);
  auto epsilon = spec.params.GetDouble("epsilon", 0);
  auto mde = spec.params.GetDouble("mde", 0);
  auto pa = spec.params.GetDouble("prior_alpha", p.prior_alpha);
  auto pb = spec.params.GetDouble("prior_beta", p.prior_beta);
  auto draws = spec.params.GetDouble("draws", p.draws);
  auto seed = spec.params.GetInt("seed", p.seed);
  for (auto* r : {&threshold, &epsilon, &mde, &pa, &pb, &draws}) {
    if (!r->ok()) return r->status().WithContext(where);
  }
  if (!seed.ok()) return seed.status().WithContext(where);
  p.threshold = *threshold;
  p.prior_alpha = *pa;
  p.prior_beta = *pb;
  p.draws = *draws;
  p.seed = *seed;
  if (*epsilon > 0) {
    p.epsilon = *epsilon;
  } else if (*mde != 0) {
    p.epsilon = 0.1 * std::fabs(*mde);  // a tenth of the effect worth detecting
  }
  if (!(p.threshold > 0.5 && p.threshold < 1)) {
    return InvalidArgument(where + ": threshold must be in (0.5, 1)");
  }
  if (!(*epsilon >= 0)) return InvalidArgument(where + ": epsilon must be >= 0");
  if (!(p.prior_alpha > 0 && p.prior_beta > 0) || !std::isfinite(p.prior_alpha + p.prior_beta)) {
    return InvalidArgument(where + ": prior_alpha and prior_beta must be > 0");
  }
  if (!(p.draws >= 100 && p.draws <= 1e8)) {
    return InvalidArgument(where + ": draws must be in [100, 1e8]");
  }
  return std::unique_ptr<StoppingRule>(new Bayes(spec, *common, p));
}

}  // namespace banditd::stats
