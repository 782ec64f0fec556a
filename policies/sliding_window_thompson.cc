// Sliding-window Thompson sampling for drifting Bernoulli rewards (Trovò,
// Paladino, Restelli & Gatti 2020, "Sliding-window Thompson sampling for
// non-stationary settings", JAIR 68): each arm's posterior is
// Beta(prior_alpha + S, prior_beta + F) with S and F the successes and
// failures of that arm among the last `window` rewards of the experiment
// (all arms together); older rewards are forgotten entirely. A choice draws
// one value per arm and takes the largest (ties: lowest index).
//
// Parameters:
//   window      rewards remembered, in [1, 1,000,000], default 1,000
//   prior_alpha, prior_beta  > 0, default 1
//   allocation_draws  Monte Carlo draws for more than two arms, default 20,000
// Allocation: P(arm is best) under the windowed posteriors: exact for two arms
// (ProbBetaGreater), Monte Carlo otherwise with standard error at most
// 0.5/sqrt(draws) per arm. Rewards in [0, 1].
//
// State: the window itself (arm and reward of each remembered reward, oldest
// first in snapshots) and the running per-arm sums, saved as they are so a
// restored policy continues bit-for-bit.
#include <algorithm>
#include <string>
#include <vector>

#include "policies/arm_stats.h"
#include "policies/beta_math.h"
#include "policies/builtin.h"

namespace banditd::policies {
namespace {

constexpr int kVersion = 1;
constexpr int64_t kMaxWindow = 1'000'000;

struct WindowConfig {
  size_t window;
  double prior_alpha;
  double prior_beta;
  size_t draws;
};

Result<WindowConfig> Parse(const PolicySpec& spec) {
  const Params& p = spec.params;
  BANDITD_RETURN_IF_ERROR(
      p.CheckKnown({"window", "prior_alpha", "prior_beta", "allocation_draws"}));
  BANDITD_ASSIGN_OR_RETURN(auto window, p.GetInt("window", 1000));
  if (window < 1 || window > kMaxWindow) {
    return InvalidArgument("window must be in [1, 1000000] (got " + std::to_string(window) + ")");
  }
  BANDITD_ASSIGN_OR_RETURN(auto a, GetInRange(p, "prior_alpha", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto b, GetInRange(p, "prior_beta", 1.0, 0.0, kInf, /*open_lo=*/true));
  BANDITD_ASSIGN_OR_RETURN(auto draws, GetAllocationDraws(p));
  return WindowConfig{static_cast<size_t>(window), a, b, draws};
}

class SlidingWindowThompson final : public Policy {
 public:
  SlidingWindowThompson(const WindowConfig& c, size_t arms)
      : cfg_(c), s_(arms, 0.0), f_(arms, 0.0), alpha_(arms), beta_(arms) {
    arm_.reserve(std::min<size_t>(c.window, 4096));
    reward_.reserve(arm_.capacity());
    Derive();
  }

  std::string_view name() const override { return "sliding_window_thompson"; }
  size_t num_arms() const override { return s_.size(); }

  size_t Choose(Rng& rng, std::span<const double>) const override {
    return ChooseBeta(alpha_, beta_, rng);
  }

  void Update(size_t arm, double reward, std::span<const double>) override {
    if (arm_.size() < cfg_.window) {
      arm_.push_back(static_cast<uint32_t>(arm));
      reward_.push_back(reward);
    } else {
      // The ring is full: the oldest reward (at head_) leaves the window.
      const size_t old = arm_[head_];
      s_[old] = std::max(0.0, s_[old] - reward_[head_]);
      f_[old] = std::max(0.0, f_[old] - (1.0 - reward_[head_]));
      DeriveArm(old);
      arm_[head_] = static_cast<uint32_t>(arm);
      reward_[head_] = reward;
      head_ = (head_ + 1) % cfg_.window;
    }
    s_[arm] += reward;
    f_[arm] += 1.0 - reward;
    DeriveArm(arm);
  }

  void Allocation(Rng& rng, std::span<const double>, std::span<double> out) const override {
    BetaProbBest(alpha_, beta_, cfg_.draws, rng, out);
  }

  void Estimates(std::span<ArmEstimate> out) const override {
    for (size_t i = 0; i < num_arms(); ++i) {
      out[i] = ArmEstimate{s_[i] + f_[i], s_[i], alpha_[i] / (alpha_[i] + beta_[i])};
    }
  }

  std::string Snapshot() const override {
    SnapshotState s;
    s.arrays["s"] = s_;
    s.arrays["f"] = f_;
    std::vector<double> arms, rewards;
    arms.reserve(arm_.size());
    rewards.reserve(arm_.size());
    for (size_t k = 0; k < arm_.size(); ++k) {  // oldest first
      const size_t i = (head_ + k) % arm_.size();
      arms.push_back(arm_[i]);
      rewards.push_back(reward_[i]);
    }
    s.arrays["window"] = {static_cast<double>(arm_.size())};
    s.arrays["window_arms"] = std::move(arms);
    s.arrays["window_rewards"] = std::move(rewards);
    return EncodeSnapshot(name(), kVersion, num_arms(), s);
  }

  Status Restore(std::string_view bytes) override {
    BANDITD_ASSIGN_OR_RETURN(auto s, DecodeSnapshot(bytes, name(), kVersion, num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto len, TakeArray(s, "window", 1));
    const double n = (len)[0];
    if (!(n >= 0.0 && n <= static_cast<double>(cfg_.window)) || n != static_cast<size_t>(n)) {
      return InvalidArgument("snapshot holds " + std::to_string(n) +
                             " rewards, more than this policy's window of " +
                             std::to_string(cfg_.window));
    }
    BANDITD_ASSIGN_OR_RETURN(auto arms, TakeArray(s, "window_arms", static_cast<size_t>(n)));
    BANDITD_ASSIGN_OR_RETURN(auto rewards, TakeArray(s, "window_rewards", static_cast<size_t>(n)));
    BANDITD_ASSIGN_OR_RETURN(auto succ, TakeArray(s, "s", num_arms()));
    BANDITD_ASSIGN_OR_RETURN(auto fail, TakeArray(s, "f", num_arms()));
    std::vector<uint32_t> arm_ids;
    arm_ids.reserve(arms.size());
    for (size_t k = 0; k < arms.size(); ++k) {
      const double a = (arms)[k];
      const double r = (rewards)[k];
      if (!(a >= 0.0 && a < static_cast<double>(num_arms())) || a != static_cast<uint32_t>(a) ||
          !(r >= 0.0 && r <= 1.0)) {
        return Status(Code::kCorruption, "snapshot: window entry out of range");
      }
      arm_ids.push_back(static_cast<uint32_t>(a));
    }
    for (size_t i = 0; i < num_arms(); ++i) {
      if ((succ)[i] < 0.0 || (fail)[i] < 0.0) {
        return Status(Code::kCorruption, "snapshot: negative windowed count");
      }
    }
    arm_ = std::move(arm_ids);
    reward_ = std::move(rewards);
    head_ = 0;
    s_ = std::move(succ);
    f_ = std::move(fail);
    Derive();
    return Status::Ok();
  }

 private:
  void DeriveArm(size_t i) {
    alpha_[i] = cfg_.prior_alpha + s_[i];
    beta_[i] = cfg_.prior_beta + f_[i];
  }
  void Derive() {
    for (size_t i = 0; i < num_arms(); ++i) DeriveArm(i);
  }

  WindowConfig cfg_;
  std::vector<double> s_;  // successes in the window, per arm
  std::vector<double> f_;  // failures in the window, per arm
  std::vector<double> alpha_;
  std::vector<double> beta_;
  // The window as a ring: while filling, appended in order; once full,
  // head_ is the oldest entry and the next to be overwritten.
  std::vector<uint32_t> arm_;
  std::vector<double> reward_;
  size_t head_ = 0;
};

}  // namespace

Result<PolicyPtr> MakeSlidingWindowThompson(const PolicySpec& spec) {
  auto c = Parse(spec);
  if (!c.ok()) return c.status().WithContext("policy 'sliding_window_thompson'");
  return PolicyPtr(std::make_unique<SlidingWindowThompson>(*c, spec.num_arms));
}

}  // namespace banditd::policies
