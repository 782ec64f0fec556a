// The Policy interface: how banditd decides which arm serves a request and
// learns from rewards. Implementations live in policies/, one file each, and
// are built by name through the registry (policies/registry.h).
//
// A Policy is not thread-safe: one owner updates it; readers use the
// allocation snapshots the owner publishes.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "banditd/params.h"
#include "banditd/rng.h"
#include "banditd/status.h"

namespace banditd {

// Shares of traffic a policy may not go past, whatever it learns.
// "The champion keeps >= 50% until a decision" is {champion=0, champion_floor=0.5}.
struct TrafficLimits {
  size_t champion = 0;              // index of the champion arm
  double champion_floor = 0.0;      // minimum share of the champion, in [0, 1]
  double challenger_ceiling = 1.0;  // maximum share of any other arm, in [0, 1]

  bool active() const { return champion_floor > 0.0 || challenger_ceiling < 1.0; }
};

// What a policy has learned about one arm.
struct ArmEstimate {
  double n = 0;           // rewards observed (discounted policies: effective count)
  double reward_sum = 0;  // sum of rewards (discounted likewise)
  double mean = 0;        // the policy's point estimate of the arm's mean reward
};

// The rewards a policy's model is defined for. Callers (the daemon, the
// simulator) reject a reward outside it with invalid_value before Update.
// Bounds are inclusive; a non-finite reward is never accepted.
struct RewardRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();

  static constexpr RewardRange Unit() { return {0.0, 1.0}; }
  static constexpr RewardRange Real() { return {}; }
  bool bounded() const { return std::isfinite(lo) && std::isfinite(hi); }
  bool Contains(double reward) const {
    return std::isfinite(reward) && reward >= lo && reward <= hi;
  }
};

// Everything needed to build a policy by name.
struct PolicySpec {
  std::string name;        // registry name, e.g. "thompson"
  size_t num_arms = 0;     // >= 1
  size_t context_dim = 0;  // > 0 only for contextual policies
  Params params;           // policy-specific parameters, validated by the factory
  TrafficLimits limits;    // applied on top of the policy's own allocation
};

class Policy {
 public:
  virtual ~Policy() = default;

  // The registry name; written into snapshots so a mismatched restore is refused.
  virtual std::string_view name() const = 0;
  virtual size_t num_arms() const = 0;
  // Length of the context a request must carry (0: the policy ignores context).
  virtual size_t context_dim() const { return 0; }

  // The rewards Update accepts, as the registry states them for name()
  // (PolicyRewardRange): [0, 1] for the Beta-Bernoulli family and the
  // bounded-reward index policies, any finite value for Gaussian or
  // distribution-free ones. A name the registry does not know: any finite value.
  RewardRange reward_range() const;

  // Picks an arm for one request.
  // REQUIRES: context.size() == context_dim().
  virtual size_t Choose(Rng& rng, std::span<const double> context) const = 0;

  // Learns from one reward for `arm`.
  // REQUIRES: arm < num_arms(), reward_range().Contains(reward),
  // context.size() == context_dim().
  virtual void Update(size_t arm, double reward, std::span<const double> context) = 0;

  // Writes into `out` the probability that Choose picks each arm now (sums to 1).
  // Policies that estimate it by Monte Carlo draw from `rng` and state their
  // error bound. REQUIRES: out.size() == num_arms(), context as for Choose.
  virtual void Allocation(Rng& rng, std::span<const double> context,
                          std::span<double> out) const = 0;

  // Per-arm sufficient statistics. REQUIRES: out.size() == num_arms().
  virtual void Estimates(std::span<ArmEstimate> out) const = 0;

  // The learned state as bytes: a msgpack envelope carrying name(), a format
  // version and the arm count, so Restore can refuse what is not its own.
  virtual std::string Snapshot() const = 0;

  // Replaces the learned state with a Snapshot()'s. A snapshot of another
  // policy, arm count or format version, or malformed bytes, is refused with a
  // non-OK Status and leaves the policy unchanged.
  virtual Status Restore(std::string_view bytes) = 0;
};

// Builds the policy `spec` names, wrapped in its traffic limits when they are
// active. Bad parameters come back as kInvalidArgument with a clear message.
Result<std::unique_ptr<Policy>> MakePolicy(const PolicySpec& spec);

// The names MakePolicy accepts, in registry order.
std::span<const std::string_view> PolicyNames();

// The rewards the registry's policy `name` accepts (its one statement of its
// reward domain), or nullopt for a name it does not know.
std::optional<RewardRange> PolicyRewardRange(std::string_view name);

}  // namespace banditd
