#include "src/stats/validation.h"

#include <cmath>
#include <memory>

#include "banditd/policy.h"
#include "banditd/rng.h"
#include "banditd/stopping.h"
#include "src/stats/hypothesis.h"

namespace banditd::stats {
namespace {

std::unique_ptr<StoppingRule> MustMakeRule(const std::string& name, Params params) {
  StoppingSpec spec;
  spec.name = name;
  spec.num_arms = 2;
  spec.params = std::move(params);
  auto made = MakeStoppingRule(spec);
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

RuleOutcome SimulateBanditCs(const ValidationConfig& c, double p_treatment, double floor) {
  RuleOutcome total;
  total.label = "bandit_cs (Thompson sampling)";
  const double p[2] = {c.p_control, p_treatment};
  const double max_total = 2 * c.max_per_arm;
  for (size_t r = 0; r < c.replications; ++r) {
    Rng rng = Rng::ForStream(c.seed ^ 0xB4D17C5ull, r);
    PolicySpec ps;
    ps.name = "thompson";
    ps.num_arms = 2;
    ps.limits = {0, floor, 1.0 - floor};
    auto policy = std::move(MakePolicy(ps)).value();
    auto rule = MustMakeRule("bandit_cs", {{"alpha", c.alpha},
                                           {"min_samples", 2 * c.min_samples},
                                           {"max_samples", max_total},
                                           {"tune_n", max_total}});
    double units = 0;
    double w[2] = {0.5, 0.5};
    bool done = false;
    while (!done && units < max_total) {
      policy->Allocation(rng, {}, w);
      for (int i = 0; i < 2 * c.look_every; ++i) {
        const size_t arm = SampleDiscrete(rng.Uniform(), w);
        const double y = rng.Bernoulli(p[arm]) ? 1.0 : 0.0;
        policy->Update(arm, y, {});
        rule->Observe(arm, y, w[arm]);
      }
      units += 2 * c.look_every;
      const StopDecision d = rule->Check();
      if (d.stop) {
        done = true;
        if (units < max_total || d.winner) total.decided_runs += d.winner ? 1 : 0;
        if (d.winner && *d.winner == 1) total.treatment_wins += 1;
        if (d.winner && *d.winner == 0) total.control_wins += 1;
        total.sum_units += units;
      }
    }
    if (!done) total.sum_units += max_total;
    total.runs += 1;
  }
  return total;
}

double WilsonUpper(double successes, double n) { return WilsonInterval({successes, n}, 0.95).hi; }
double WilsonLower(double successes, double n) { return WilsonInterval({successes, n}, 0.95).lo; }

}  // namespace banditd::stats
