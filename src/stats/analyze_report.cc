#include <algorithm>
#include <cmath>
#include <memory>

#include "banditd/stopping.h"
#include "banditd/vocabulary.h"
#include "policies/snapshot.h"
#include "src/stats/analyze_report.h"
#include "src/stats/bayes.h"
#include "src/stats/betting.h"
#include "src/stats/planning.h"
#include "src/stats/sequential.h"

namespace banditd::stats {
namespace {

constexpr double kConf = 0.95;
constexpr size_t kMonteCarloDraws = 200000;

ArmReport DescribeArm(const ArmRow& a, Metric metric) {
  ArmReport r;
  r.name = a.name;
  r.n = a.n;
  const Moments m = MomentsFromSums(a.n, a.sum, a.sum_sq);
  r.mean = m.mean;
  if (metric == Metric::kBernoulli) {
    r.sd = std::sqrt(m.mean * (1 - m.mean));
    r.ci95 = WilsonInterval({a.sum, a.n}, kConf);
  } else {
    r.sd = std::sqrt(m.variance);
    const double half = 1.959963984540054 * r.sd / std::sqrt(a.n);
    r.ci95 = {m.mean - half, m.mean + half};
  }
  return r;
}

void BayesianColumns(const AnalyzeInput& in, Report& rep) {
  const size_t k = in.arms.size();
  std::vector<double> p_best(k), loss(k);
  if (in.metric == Metric::kBernoulli) {
    std::vector<BetaPosterior> post(k);
    for (size_t i = 0; i < k; ++i) {
      post[i] = {1 + in.arms[i].sum, 1 + in.arms[i].n - in.arms[i].sum};
    }
    if (k == 2) {
      p_best[1] = ProbBetterBeta(post[0], post[1]);
      p_best[0] = 1 - p_best[1];
      loss[1] = ExpectedLossBeta(post[0], post[1]);
      loss[0] = ExpectedLossBeta(post[1], post[0]);
      rep.p_best_method = "Beta(1,1) prior; closed form (Evan Miller) and Stucchio's loss";
    } else {
      Rng rng(1);
      MonteCarloBeta(post, kMonteCarloDraws, rng, p_best, loss);
      rep.p_best_method = "Beta(1,1) prior; Monte Carlo, 200000 draws (se <= 0.0012), seed 1";
    }
  } else {
    std::vector<NormalPosterior> post(k);
    for (size_t i = 0; i < k; ++i)
      post[i] = {rep.arms[i].mean, rep.arms[i].sd / std::sqrt(rep.arms[i].n)};
    if (k == 2) {
      p_best[1] = ProbBetterNormal(post[0], post[1]);
      p_best[0] = 1 - p_best[1];
      loss[1] = ExpectedLossNormal(post[0], post[1]);
      loss[0] = ExpectedLossNormal(post[1], post[0]);
      rep.p_best_method = "normal posterior N(mean, s^2/n); closed form";
    } else {
      Rng rng(1);
      MonteCarloNormal(post, kMonteCarloDraws, rng, p_best, loss);
      rep.p_best_method = "normal posterior N(mean, s^2/n); Monte Carlo, 200000 draws, seed 1";
    }
  }
  for (size_t i = 0; i < k; ++i) {
    rep.arms[i].p_best = p_best[i];
    rep.arms[i].expected_loss = loss[i];
  }
}

ComparisonReport Compare(const AnalyzeInput& in, const Report& rep, size_t k) {
  const ArmRow& c = in.arms[0];
  const ArmRow& t = in.arms[k];
  ComparisonReport r;
  r.arm = t.name;
  const Moments mc = MomentsFromSums(c.n, c.sum, c.sum_sq);
  const Moments mt = MomentsFromSums(t.n, t.sum, t.sum_sq);
  r.diff = mt.mean - mc.mean;
  r.lift = mt.mean / mc.mean - 1;
  PlanInputs plan;
  plan.alpha = rep.alpha;
  plan.ratio = c.n / t.n;
  double var_c, var_t;
  if (in.metric == Metric::kBernoulli) {
    const Proportion pc{c.sum, c.n}, pt{t.sum, t.n};
    r.test = "two-proportion z-test (pooled)";
    const TestResult two = TwoProportionZTest(pc, pt, Alternative::kTwoSided);
    r.statistic = two.statistic;
    r.p_two_sided = two.p_value;
    r.p_greater = TwoProportionZTest(pc, pt, Alternative::kGreater).p_value;
    r.p_less = TwoProportionZTest(pc, pt, Alternative::kLess).p_value;
    r.diff_ci95 = NewcombeDiffInterval(pc, pt, kConf);
    r.diff_method = "Newcombe hybrid score (Wilson)";
    r.lift_ci95 = LiftIntervalProportions(pc, pt, kConf);
    r.lift_method = "Katz log risk ratio";
    var_c = mc.mean * (1 - mc.mean);
    var_t = mt.mean * (1 - mt.mean);
    const double base = mc.mean;
    if (base > 0 && base < 1 && base + rep.mde < 1) {
      r.power_at_n = PowerProportions(base, rep.mde, t.n, plan);
      plan.ratio = 1;
      r.n_for_mde = std::ceil(SampleSizeProportions(base, rep.mde, 0.8, plan));
    } else {
      r.power_at_n = r.n_for_mde = std::nan("");
    }
  } else {
    r.test = "Welch t-test";
    const TestResult two = WelchTTest(mc, mt, Alternative::kTwoSided);
    r.statistic = two.statistic;
    r.df = two.df;
    r.p_two_sided = two.p_value;
    r.p_greater = WelchTTest(mc, mt, Alternative::kGreater).p_value;
    r.p_less = WelchTTest(mc, mt, Alternative::kLess).p_value;
    r.diff_ci95 = WelchDiffInterval(mc, mt, kConf);
    r.diff_method = "Welch t";
    r.lift_ci95 = LiftIntervalMeans(mc, mt, kConf);
    r.lift_method = "delta method on the log ratio";
    var_c = mc.variance;
    var_t = mt.variance;
    const double sd = std::sqrt(mc.variance);
    if (sd > 0) {
      r.power_at_n = PowerMeans(sd, rep.mde, t.n, plan);
      plan.ratio = 1;
      r.n_for_mde = std::ceil(SampleSizeMeans(sd, rep.mde, 0.8, plan));
    } else {
      r.power_at_n = r.n_for_mde = std::nan("");
    }
  }
  const double v = var_t / t.n + var_c / c.n;
  if (v > 0) {
    const MsprtLook look = MsprtAt(r.diff, v, rep.tau2, rep.alpha);
    r.msprt_p = look.p_value;
    r.msprt_ci95 = look.ci;
  } else {
    r.msprt_p = std::nan("");
    r.msprt_ci95 = {std::nan(""), std::nan("")};
  }
  return r;
}

// Each rule's decision at one look, through the rule objects themselves:
// their state is restored from a snapshot holding the sums (and, for
// bandit_cs, the betting sums with propensities = the intended weights, or
// the observed shares without --weights, and regression estimates m = 0).
RuleReport DecideRule(const AnalyzeInput& in, const Report& rep, const std::string& name,
                      const std::vector<double>& weights) {
  StoppingSpec spec = MakeStoppingSpec(name, Params{}, in.arms.size(), 0, in.metric);
  spec.params.Set("alpha", rep.alpha);
  spec.params.Set("min_samples", 0.0);
  double min_n = in.arms[0].n, total = 0;
  for (const auto& a : in.arms) {
    min_n = std::min(min_n, a.n);
    total += a.n;
  }
  if (name == "fixed_horizon") spec.params.Set("n_per_arm", std::max(1.0, min_n));
  if (name == "sequential") spec.params.Set("tau2", rep.tau2);
  if (name == "bayes") spec.params.Set("mde", rep.mde);
  if (name == "bandit_cs") spec.params.Set("tune_n", total);
  RuleReport out;
  out.rule = name;
  auto rule = MakeStoppingRule(spec);
  if (!rule.ok()) {
    out.reason = rule.status().message();
    return out;
  }
  policies::SnapshotState s;
  const size_t k = in.arms.size();
  for (const auto& a : in.arms) {
    s.arrays["n"].push_back(a.n);
    s.arrays["sum"].push_back(a.sum);
    s.arrays["sum_sq"].push_back(a.sum_sq);
  }
  if (name == "sequential") {
    s.arrays["running_p"] = std::vector<double>(k, 1.0);
    s.arrays["ci_lo"] = std::vector<double>(k, -INFINITY);
    s.arrays["ci_hi"] = std::vector<double>(k, INFINITY);
  }
  if (name == "bandit_cs") {
    // One look at aggregates: with constant propensities pi (the weights, or
    // the observed shares), m = 0 and a constant lambda fixed without the
    // rewards, every sum of BettingDiffSequence follows from n, sum, sum_sq.
    // Bernoulli only (the rule refuses other metrics without a reward range).
    double wsum = 0;
    for (size_t i = 0; i < k; ++i) wsum += weights.empty() ? in.arms[i].n : weights[i];
    auto share = [&](size_t i) { return (weights.empty() ? in.arms[i].n : weights[i]) / wsum; };
    BettingSums b;
    if (k == 2 && share(0) > 0 && share(1) > 0) {
      const double pc = share(0), pt = share(1);
      const auto& c = in.arms[0];
      const auto& t = in.arms[1];
      const double phi = t.sum / pt - c.sum / pc;
      const double phi_sq = t.sum_sq / (pt * pt) + c.sum_sq / (pc * pc);
      // With m = 0: |phi - d| <= max(1/pt, 1/pc) + 1, and a variance bound
      // that needs no rewards: E[phi^2] <= 1/pt + 1/pc.
      const double bound = std::max(1.0 / pt, 1.0 / pc) + 1.0;
      const double lambda =
          std::min(std::sqrt(2.0 * std::log(2.0 / rep.alpha) / ((1.0 / pt + 1.0 / pc) * total)),
                   kBettingTruncation / bound);
      const double w = BettingPsi(lambda * bound) * lambda * lambda;
      b = {total, phi, phi_sq, lambda * total, lambda * phi, w * total, w * phi, w * phi_sq};
    }
    s.arrays["cs_sums"] = b.Flatten();
    s.arrays["cs_state"] = {-INFINITY, INFINITY, 1.0, 0.0};
  }
  const Status restored = (*rule)->Restore(policies::EncodeSnapshot(name, 1, k, s));
  if (!restored.ok()) {
    out.reason = "cannot evaluate: " + restored.message();
    return out;
  }
  const StopDecision d = (*rule)->Check();
  out.stop = d.stop;
  if (d.winner) out.winner = in.arms[*d.winner].name;
  out.p_value = d.p_value;
  out.reason = d.reason;
  if (d.compared_arm) out.compared_arm = in.arms[*d.compared_arm].name;
  out.difference = d.difference;
  out.ci = {d.ci_lo, d.ci_hi};
  return out;
}

}  // namespace

Report BuildReport(const AnalyzeInput& in, const std::vector<double>& weights) {
  Report rep;
  rep.metric = std::string(NameOf(in.metric));
  for (const auto& a : in.arms) rep.arms.push_back(DescribeArm(a, in.metric));
  // The effect worth detecting when none is given: 10% of the control's
  // mean, or a tenth of its sd when the mean is 0.
  const ArmReport& control = rep.arms[0];
  rep.mde = std::fabs(control.mean) > 0 ? 0.1 * std::fabs(control.mean) : 0.1 * control.sd;
  if (!(rep.mde > 0)) rep.mde = 1e-3;
  rep.tau2 = rep.mde * rep.mde;
  BayesianColumns(in, rep);
  for (size_t k = 1; k < in.arms.size(); ++k) rep.comparisons.push_back(Compare(in, rep, k));
  if (!weights.empty()) {
    std::vector<double> n;
    for (const auto& a : in.arms) n.push_back(a.n);
    const TestResult t = SrmChiSquare(n, weights);
    SrmReport s{t.statistic, t.df, t.p_value, weights};
    rep.srm = s;
  }
  for (auto name : StoppingRuleNames()) {
    rep.rules.push_back(DecideRule(in, rep, std::string(name), weights));
  }
  return rep;
}

}  // namespace banditd::stats
