// The batched engine (engine: batched): a replication advances by segments
// instead of steps. Within a segment the routing weights are fixed — the
// allocation is refreshed only every propensity_every steps — so the
// segment's per-arm counts are one multinomial draw and each arm's
// successes one binomial draw. Segments end at every refresh, every look of
// the stopping rule, every checkpoint of the curves and the horizon, so the
// rule looks and the curves are sampled at exactly the steps the per-step
// engine uses.
//
// Approximations (docs/simulation.md, "Batched engine"): with simulated
// time, a segment's rates are those of its middle step; the policy and the
// rule receive a segment's rewards grouped by arm (which is why the parser
// refuses order-dependent policies with this engine); every contender
// routes by allocation weights, even without a stopping rule.
#include <algorithm>

#include "sim/engine.h"
#include "sim/environment.h"
#include "sim/sampling.h"

namespace banditd::sim {
namespace {

class BatchedReplication {
 public:
  BatchedReplication(const Scenario& s, size_t contender, uint64_t rep, const Factories& f,
                     const std::vector<uint64_t>& checkpoints)
      : s_(s),
        c_(s.contenders[contender]),
        f_(f),
        checkpoints_(checkpoints),
        env_(s, rep),
        rng_(Rng::ForStream(s.seed, 2 * rep + 1)),
        alloc_rng_(Rng::ForStream(s.seed ^ 0xA110CA7E5EEDull, rep)),
        alloc_(s.num_arms(), 1.0 / static_cast<double>(s.num_arms())),
        forced_(s.num_arms(), 0.0),
        counts_(s.num_arms(), 0) {}

  Result<RepResult> Run(std::atomic<uint64_t>* steps_done) {
    auto made = f_.policy(c_.policy);
    if (!made.ok()) return made.status();
    policy_ = std::move(made).value();
    if (policy_->context_dim() > 0)
      return InvalidArgument("'" + c_.label + "': the batched engine has no contexts");
    if (c_.stopping) {
      auto rule = f_.stopping(*c_.stopping);
      if (!rule.ok()) return rule.status();
      rule_ = std::move(rule).value();
    }
    out_.regret_at.reserve(checkpoints_.size());
    out_.best_share_at.reserve(checkpoints_.size());
    const uint64_t horizon = s_.horizon;
    const uint64_t refresh = s_.propensity_every;
    const uint64_t look = s_.check_every;
    size_t next_cp = 0;
    uint64_t interval_best = 0, interval_start = 0;
    bool forced = false;  // after a promoting decision one arm serves everyone

    for (uint64_t t = 0; t < horizon;) {
      // t steps are done; this segment is steps t + 1 .. end.
      if (!forced && t % refresh == 0) policy_->Allocation(alloc_rng_, {}, alloc_);
      uint64_t end = std::min(horizon, checkpoints_[next_cp]);
      if (!forced) {
        end = std::min(end, (t / refresh + 1) * refresh);
        if (rule_ && !out_.decided) end = std::min(end, (t / look + 1) * look);
      }
      const uint64_t n = end - t;
      env_.SetTime(t + 1 + (n - 1) / 2);  // the segment's middle step
      const std::span<const double> weights = forced ? forced_ : alloc_;
      Multinomial(rng_, n, weights, counts_);
      for (size_t a = 0; a < counts_.size(); ++a) {
        const uint64_t k = counts_[a];
        if (k == 0) continue;
        const double mean = env_.mean(a);
        out_.regret += static_cast<double>(k) * (env_.best_mean() - mean);
        if (mean >= env_.best_mean()) {
          out_.best_pulls += k;
          interval_best += k;
        } else {
          out_.worse_pulls += k;
          if (!out_.decided) out_.worse_pulls_to_decision += k;
        }
        if (!forced) Feed(a, k, weights[a]);
      }
      t = end;
      if (!forced && rule_ && !out_.decided && t % look == 0) {
        // The look is at the segment's last step, not at its middle.
        const double now = s_.timed() ? SecondsAtStep(s_.traffic, t) : 0.0;
        if (s_.timed()) rule_->SetElapsed(now);
        const StopDecision d = rule_->Check();
        if (d.stop) {
          RecordDecision(d, t, now, env_, &out_);
          if (s_.promote_on_decision) {
            forced = true;
            forced_[d.winner ? *d.winner : s_.champion] = 1.0;
          }
        }
      }
      if (t == checkpoints_[next_cp]) {
        out_.regret_at.push_back(out_.regret);
        out_.best_share_at.push_back(static_cast<double>(interval_best) /
                                     static_cast<double>(t - interval_start));
        interval_best = 0;
        interval_start = t;
        ++next_cp;
      }
      if (steps_done) steps_done->fetch_add(n, std::memory_order_relaxed);
    }
    return std::move(out_);
  }

 private:
  // Delivers `k` units of `arm`, all routed with probability `propensity`.
  // Units paying the same reward go to the rule in one ObserveRepeated; the
  // policy has only per-unit updates, so it gets them one by one.
  void Feed(size_t arm, uint64_t k, double propensity) {
    const uint64_t hits = env_.DrawSuccesses(arm, k);
    const bool bernoulli = s_.reward == RewardKind::kBernoulli;
    const uint64_t zeros = k - hits;
    if (zeros > 0) {
      if (rule_) rule_->ObserveRepeated(arm, 0.0, zeros, propensity);
      for (uint64_t i = 0; i < zeros; ++i) policy_->Update(arm, 0.0, {});
    }
    if (bernoulli) {
      if (hits > 0 && rule_) rule_->ObserveRepeated(arm, 1.0, hits, propensity);
      for (uint64_t i = 0; i < hits; ++i) policy_->Update(arm, 1.0, {});
      return;
    }
    // Lognormal buyers and Gaussian units: each has its own value.
    for (uint64_t i = 0; i < hits; ++i) {
      const double v = env_.DrawValue(arm);
      if (rule_) rule_->Observe(arm, v, propensity);
      policy_->Update(arm, v, {});
    }
  }

  const Scenario& s_;
  const ContenderSpec& c_;
  const Factories& f_;
  const std::vector<uint64_t>& checkpoints_;
  Environment env_;
  Rng rng_;
  Rng alloc_rng_;
  std::vector<double> alloc_;
  std::vector<double> forced_;
  std::vector<uint64_t> counts_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<StoppingRule> rule_;
  RepResult out_;
};

}  // namespace

Result<RepResult> RunBatchedReplication(const Scenario& scenario, size_t contender, uint64_t rep,
                                        const Factories& factories,
                                        const std::vector<uint64_t>& checkpoints,
                                        std::atomic<uint64_t>* steps_done) {
  BatchedReplication r(scenario, contender, rep, factories, checkpoints);
  return r.Run(steps_done);
}

}  // namespace banditd::sim
