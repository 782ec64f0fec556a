#include "src/stats/validation.h"

#include <cmath>
#include <memory>
#include <random>

#include "banditd/policy.h"
#include "banditd/rng.h"
#include "banditd/stopping.h"
#include "policies/beta_math.h"
#include "policies/builtin.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {
namespace {

std::unique_ptr<StoppingRule> MustMakeRule(const std::string& name, Params params) {
  auto made = MakeStoppingRule(MakeStoppingSpec(name, std::move(params), 2, 0, Metric::kBernoulli));
  return made.ok() ? std::move(made).value() : nullptr;
}

struct Entry {
  RuleOutcome outcome;
  std::unique_ptr<StoppingRule> rule;
  bool done = false;
};

void Record(Entry& e, const StopDecision& d, double units) {
  e.done = true;
  if (d.winner && *d.winner == 1) e.outcome.treatment_wins += 1;
  if (d.winner && *d.winner == 0) e.outcome.control_wins += 1;
  e.outcome.sum_units += units;
}

}  // namespace

std::vector<RuleOutcome> SimulateAB(const ValidationConfig& c, double p_treatment) {
  const double a = c.alpha;
  const double min = c.min_samples;
  const double max = c.max_per_arm;
  auto make_all = [&] {
    std::vector<Entry> e(5);
    e[0].outcome.label = "fixed_horizon";
    e[0].rule = MustMakeRule("fixed_horizon", {{"alpha", a},
                                               {"mde", c.mde},
                                               {"baseline", c.p_control},
                                               {"power", c.power},
                                               {"min_samples", min}});
    e[1].outcome.label = "naive_peeking";
    e[1].rule =
        MustMakeRule("naive_peeking", {{"alpha", a}, {"min_samples", min}, {"max_samples", max}});
    e[2].outcome.label = "naive_peeking (min_samples 100)";
    e[2].rule =
        MustMakeRule("naive_peeking", {{"alpha", a}, {"min_samples", 100.0}, {"max_samples", max}});
    e[3].outcome.label = "sequential";
    e[3].rule = MustMakeRule(
        "sequential", {{"alpha", a}, {"mde", c.mde}, {"min_samples", min}, {"max_samples", max}});
    e[4].outcome.label = "bayes";
    e[4].rule = MustMakeRule("bayes", {{"mde", c.mde}, {"min_samples", min}, {"max_samples", max}});
    return e;
  };
  std::vector<RuleOutcome> totals;
  for (auto& e : make_all()) totals.push_back(e.outcome);
  const double p[2] = {c.p_control, p_treatment};
  for (size_t r = 0; r < c.replications; ++r) {
    Rng rng = Rng::ForStream(c.seed, r);
    auto entries = make_all();
    size_t open = entries.size();
    double per_arm = 0;
    while (open > 0 && per_arm < max) {
      for (int i = 0; i < c.look_every; ++i) {
        for (size_t arm = 0; arm < 2; ++arm) {
          const double y = rng.Bernoulli(p[arm]) ? 1.0 : 0.0;
          for (auto& e : entries) {
            if (!e.done) e.rule->Observe(arm, y, 0.5);
          }
        }
      }
      per_arm += c.look_every;
      for (auto& e : entries) {
        if (e.done) continue;
        const StopDecision d = e.rule->Check();
        if (d.stop) {
          Record(e, d, 2 * per_arm);
          --open;
        }
      }
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].done)
        entries[i].outcome.sum_units += 2 * max;
      else
        totals[i].decided_runs += 1;
      totals[i].runs += 1;
      totals[i].treatment_wins += entries[i].outcome.treatment_wins;
      totals[i].control_wins += entries[i].outcome.control_wins;
      totals[i].sum_units += entries[i].outcome.sum_units;
    }
  }
  return totals;
}

BanditSetting ValidationBandit(const ValidationConfig& c, double p_treatment,
                               double champion_floor) {
  BanditSetting s;
  s.label =
      champion_floor > 0
          ? "bandit_cs (Thompson, champion >= " + std::to_string(champion_floor).substr(0, 4) + ")"
          : "bandit_cs (Thompson, unclipped)";
  s.replications = c.replications;
  s.p_control = c.p_control;
  s.p_treatment = p_treatment;
  s.max_total = 2 * c.max_per_arm;
  s.refresh_every = 2 * c.look_every;
  s.look_every = 2 * c.look_every;
  s.min_samples = 2 * c.min_samples;
  s.tune_n = 2 * c.max_per_arm;
  s.champion_floor = champion_floor;
  s.alpha = c.alpha;
  s.seed = c.seed ^ 0xB4D17C5ull;
  return s;
}

BanditSetting SimAaBandit(size_t replications) {
  BanditSetting s;
  s.label = "bandit_cs (aa.yaml: Thompson, unclipped, 5%)";
  s.replications = replications;
  s.p_control = s.p_treatment = 0.05;
  s.max_total = 200000;
  s.refresh_every = 100;
  s.look_every = 1000;
  s.min_samples = 100;
  s.tune_n = 10000;
  s.seed = 1;
  return s;
}

RuleOutcome SimulateBanditCs(const BanditSetting& s) {
  RuleOutcome total;
  total.label = s.label;
  const double p[2] = {s.p_control, s.p_treatment};
  for (size_t r = 0; r < s.replications; ++r) {
    Rng rng = Rng::ForStream(s.seed, r);
    PolicySpec ps;
    ps.name = "thompson";
    ps.num_arms = 2;
    ps.limits = {0, s.champion_floor, 1.0};
    auto policy = std::move(MakePolicy(ps)).value();
    auto rule = MustMakeRule("bandit_cs", {{"alpha", s.alpha},
                                           {"min_samples", s.min_samples},
                                           {"max_samples", s.max_total},
                                           {"tune_n", s.tune_n}});
    double units = 0;
    double w[2] = {0.5, 0.5};
    bool done = false;
    while (!done && units < s.max_total) {
      if (std::fmod(units, s.refresh_every) == 0) policy->Allocation(rng, {}, w);
      const size_t arm = SampleDiscrete(rng.Uniform(), w);
      const double y = rng.Bernoulli(p[arm]) ? 1.0 : 0.0;
      policy->Update(arm, y, {});
      rule->Observe(arm, y, w[arm]);
      units += 1;
      if (std::fmod(units, s.look_every) != 0) continue;
      const StopDecision d = rule->Check();
      if (d.stop) {
        done = true;
        if (units < s.max_total || d.winner) total.decided_runs += d.winner ? 1 : 0;
        if (d.winner && *d.winner == 1) total.treatment_wins += 1;
        if (d.winner && *d.winner == 0) total.control_wins += 1;
        total.sum_units += units;
      }
    }
    if (!done) total.sum_units += s.max_total;
    total.runs += 1;
  }
  return total;
}

namespace {

// P(B1 > B0) for Beta posteriors: the closed form while it is cheap, the
// normal approximation of each Beta once both arms have many successes.
double ProbChallengerBest(double s0, double f0, double s1, double f1) {
  if (std::min(s0, s1) < 200) return policies::ProbBetaGreater(1 + s0, 1 + f0, 1 + s1, 1 + f1);
  auto moments = [](double a, double b, double& m, double& v) {
    m = a / (a + b);
    v = a * b / ((a + b) * (a + b) * (a + b + 1));
  };
  double m0, v0, m1, v1;
  moments(1 + s0, 1 + f0, m0, v0);
  moments(1 + s1, 1 + f1, m1, v1);
  return 0.5 * std::erfc(-(m1 - m0) / std::sqrt(2.0 * (v0 + v1)));
}

uint64_t Binomial(Rng& rng, uint64_t n, double p) {
  if (n == 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  std::binomial_distribution<uint64_t> dist(n, p);
  return dist(rng);
}

}  // namespace

std::vector<RuleOutcome> SimulateCell(const CellSetting& cell,
                                      const std::vector<RuleUnderTest>& rules) {
  std::vector<RuleOutcome> totals(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) totals[i].label = rules[i].label;
  const double rate[2] = {cell.p_control, cell.p_control * (1.0 + cell.lift)};
  const uint64_t look = static_cast<uint64_t>(cell.look_every);
  for (size_t r = 0; r < cell.replications; ++r) {
    Rng rng = Rng::ForStream(cell.seed, r);
    std::vector<std::unique_ptr<StoppingRule>> made;
    for (const auto& rule : rules) {
      auto m = MakeStoppingRule(MakeStoppingSpec(
          rule.name, rule.params, 2, 0, cell.revenue ? Metric::kGaussian : Metric::kBernoulli));
      made.push_back(m.ok() ? std::move(m).value() : nullptr);
    }
    std::vector<bool> done(rules.size(), false);
    size_t open = rules.size();
    double succ[2] = {0, 0}, fail[2] = {0, 0};
    double units = 0;
    while (open > 0 && units < cell.horizon) {
      double w1 = cell.challenger_share;
      if (cell.thompson) {
        double w[2];
        w[1] = ProbChallengerBest(succ[0], fail[0], succ[1], fail[1]);
        w[0] = 1.0 - w[1];
        TrafficLimits limits;
        limits.champion_floor = cell.champion_floor;
        policies::ProjectOntoLimits(limits, w);
        w1 = w[1];
      }
      const double w[2] = {1.0 - w1, w1};
      uint64_t n[2];
      n[1] = Binomial(rng, look, w1);
      n[0] = look - n[1];
      for (size_t arm = 0; arm < 2; ++arm) {
        const uint64_t s = Binomial(rng, n[arm], rate[arm]);
        succ[arm] += static_cast<double>(s);
        fail[arm] += static_cast<double>(n[arm] - s);
        if (cell.revenue) {
          for (uint64_t b = 0; b < s; ++b) {
            const double y = std::exp(rng.Normal(0.0, cell.revenue_sigma));
            for (size_t i = 0; i < made.size(); ++i) {
              if (!done[i] && made[i]) made[i]->Observe(arm, y, w[arm]);
            }
          }
        }
        for (size_t i = 0; i < made.size(); ++i) {
          if (done[i] || !made[i]) continue;
          if (!cell.revenue) made[i]->ObserveRepeated(arm, 1.0, s, w[arm]);
          made[i]->ObserveRepeated(arm, 0.0, n[arm] - s, w[arm]);
        }
      }
      units += static_cast<double>(look);
      for (size_t i = 0; i < made.size(); ++i) {
        if (done[i] || !made[i]) continue;
        const StopDecision d = made[i]->Check();
        if (!d.stop) continue;
        done[i] = true;
        --open;
        if (d.winner && *d.winner == 1) totals[i].treatment_wins += 1;
        if (d.winner && *d.winner == 0) totals[i].control_wins += 1;
        if (d.winner) totals[i].decided_runs += 1;
        totals[i].sum_units += units;
      }
    }
    for (size_t i = 0; i < made.size(); ++i) {
      if (!done[i]) totals[i].sum_units += units;
      totals[i].runs += 1;
    }
  }
  return totals;
}

double WilsonUpper(double successes, double n) { return WilsonInterval({successes, n}, 0.95).hi; }
double WilsonLower(double successes, double n) { return WilsonInterval({successes, n}, 0.95).lo; }

}  // namespace banditd::stats
