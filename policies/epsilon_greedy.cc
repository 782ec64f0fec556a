// ε-greedy: with probability ε a uniformly random arm, otherwise the greedy
// arm (highest empirical mean; an arm without rewards counts as best, so each
// arm gets tried; ties go to the lowest index).
//
// Parameters:
//   schedule  "fixed" (default) or "decaying"
//   epsilon   fixed ε in [0, 1], default 0.1
//   c, d      the decaying schedule ε_t = min(1, c·K / (d²·t)) of ε_n-GREEDY
//             (Auer, Cesa-Bianchi & Fischer 2002, Theorem 3), t = rewards
//             seen + 1; c > 0 (default 0.15, a value the paper's experiments
//             use), d in (0, 1] a lower bound on the gap between the best and
//             the second-best mean (default 0.1).
// Allocation (exact): ε_t/K on every arm plus (1 − ε_t) on the greedy arm.
// Rewards: any finite value (the decaying schedule's guarantee assumes [0, 1]).
#include <algorithm>
#include <string>
#include <vector>

#include "policies/arm_stats.h"
#include "policies/builtin.h"

namespace banditd::policies {
namespace {

constexpr int kVersion = 1;

struct EpsilonConfig {
  bool decaying = false;
  double epsilon = 0.1;
  double c = 0.15;
  double d = 0.1;
};

Result<EpsilonConfig> Parse(const PolicySpec& spec) {
  const Params& p = spec.params;
  BANDITD_RETURN_IF_ERROR(p.CheckKnown({"schedule", "epsilon", "c", "d"}));
  EpsilonConfig cfg;
  BANDITD_ASSIGN_OR_RETURN(auto schedule, p.GetString("schedule", "fixed"));
  if (schedule != "fixed" && schedule != "decaying") {
    return InvalidArgument("schedule must be 'fixed' or 'decaying' (got '" + schedule + "')");
  }
  cfg.decaying = schedule == "decaying";
  BANDITD_ASSIGN_OR_RETURN(auto eps, GetInRange(p, "epsilon", 0.1, 0.0, 1.0));
  BANDITD_ASSIGN_OR_RETURN(auto c, GetInRange(p, "c", 0.15, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto d, GetInRange(p, "d", 0.1, 0.0, 1.0, /*open_lo=*/true));
  if (cfg.decaying && p.Has("epsilon")) {
    return InvalidArgument("epsilon is for schedule 'fixed'; 'decaying' uses c and d");
  }
  if (!cfg.decaying && (p.Has("c") || p.Has("d"))) {
    return InvalidArgument("c and d are for schedule 'decaying'");
  }
  cfg.epsilon = eps;
  cfg.c = c;
  cfg.d = d;
  return cfg;
}

class EpsilonGreedy final : public Policy {
 public:
  EpsilonGreedy(const EpsilonConfig& cfg, size_t arms) : cfg_(cfg), counts_(arms) {}

  std::string_view name() const override { return "epsilon_greedy"; }
  size_t num_arms() const override { return counts_.n.size(); }

  size_t Choose(Rng& rng, std::span<const double>) const override {
    // One uniform decides explore vs exploit; a second picks the arm.
    if (rng.Uniform() < Epsilon()) return static_cast<size_t>(rng.Below(num_arms()));
    return Greedy();
  }

  void Update(size_t arm, double reward, std::span<const double>) override {
    counts_.Add(arm, reward);
    ++t_;
  }

  void Allocation(Rng&, std::span<const double>, std::span<double> out) const override {
    const double eps = Epsilon();
    std::fill(out.begin(), out.end(), eps / static_cast<double>(num_arms()));
    out[Greedy()] += 1.0 - eps;
  }

  void Estimates(std::span<ArmEstimate> out) const override { counts_.Estimates(out); }

  std::string Snapshot() const override {
    SnapshotState s;
    counts_.Save(s);
    s.arrays["t"] = {t_};
    return EncodeSnapshot(name(), kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, name(), kVersion, num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto t, TakeArray(s, "t", 1));
    if ((t)[0] < 0.0) return Status(Code::kCorruption, "snapshot: negative step count");
    ArmCounts counts(num_arms());
    BANDITD_RETURN_IF_ERROR(ArmCounts::Load(s, counts));
    counts_ = std::move(counts);
    t_ = (t)[0];
    return Status::Ok();
  }

  // The current ε: fixed, or min(1, c·K / (d²·t)) with t = rewards seen + 1.
  double Epsilon() const {
    if (!cfg_.decaying) return cfg_.epsilon;
    const double k = static_cast<double>(num_arms());
    return std::min(1.0, cfg_.c * k / (cfg_.d * cfg_.d * (t_ + 1.0)));
  }

 private:
  size_t Greedy() const {
    size_t best = 0;
    double best_mean = 0.0;
    for (size_t i = 0; i < num_arms(); ++i) {
      if (counts_.n[i] == 0.0) return i;  // untried arms first, lowest index
      const double m = counts_.sum[i] / counts_.n[i];
      if (i == 0 || m > best_mean) {
        best = i;
        best_mean = m;
      }
    }
    return best;
  }

  EpsilonConfig cfg_;
  ArmCounts counts_;
  double t_ = 0.0;  // rewards seen
};

}  // namespace

Result<PolicyPtr> MakeEpsilonGreedy(const PolicySpec& spec) {
  auto c = Parse(spec);
  if (!c.ok()) return c.status().WithContext("policy 'epsilon_greedy'");
  return PolicyPtr(std::make_unique<EpsilonGreedy>(*c, spec.num_arms));
}

}  // namespace banditd::policies
