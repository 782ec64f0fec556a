// Shared helpers for the simulator tests: recording fakes of Policy and
// StoppingRule, and scenario parsing that fails the test on error.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "banditd/policy.h"
#include "banditd/stopping.h"
#include "sim/engine.h"
#include "sim/scenario.h"

namespace banditd::sim::testing {

inline Scenario MustParse(const std::string& yaml) {
  auto s = ParseScenario(yaml, "test.yaml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok() || s->empty()) return Scenario{};
  return s->front();
}

// What a RecordingPolicy saw, in order.
struct Event {
  enum Kind { kMake, kChoose, kUpdate } kind;
  size_t arm = 0;
  double reward = 0.0;
};

// Always chooses `arm` (or round-robin when arm < 0) and records every call
// into a shared log.
class RecordingPolicy final : public Policy {
 public:
  RecordingPolicy(size_t arms, int arm, std::shared_ptr<std::vector<Event>> log)
      : arms_(arms), arm_(arm), log_(std::move(log)) {
    log_->push_back({Event::kMake});
  }
  std::string_view name() const override { return "recording"; }
  size_t num_arms() const override { return arms_; }
  size_t Choose(Rng&, std::span<const double>) const override {
    const size_t a = arm_ >= 0 ? static_cast<size_t>(arm_) : (next_++ % arms_);
    log_->push_back({Event::kChoose, a});
    return a;
  }
  void Update(size_t arm, double reward, std::span<const double>) override {
    log_->push_back({Event::kUpdate, arm, reward});
  }
  void Allocation(Rng&, std::span<const double>, std::span<double> out) const override {
    for (auto& p : out) p = arm_ >= 0 ? 0.0 : 1.0 / static_cast<double>(arms_);
    if (arm_ >= 0) out[static_cast<size_t>(arm_)] = 1.0;
  }
  void Estimates(std::span<ArmEstimate> out) const override {
    for (auto& e : out) e = ArmEstimate{};
  }
  std::string Snapshot() const override { return {}; }
  Status Restore(std::string_view) override { return Status::Ok(); }

 private:
  size_t arms_;
  int arm_;
  mutable size_t next_ = 0;
  std::shared_ptr<std::vector<Event>> log_;
};

// Stops with `winner` at the first look after `after` observations; records
// every propensity it is given.
class FakeRule final : public StoppingRule {
 public:
  FakeRule(size_t after, std::optional<size_t> winner, std::shared_ptr<std::vector<double>> seen)
      : after_(after), winner_(winner), seen_(std::move(seen)) {}
  std::string_view name() const override { return "fake"; }
  void Observe(size_t, double, double propensity) override {
    ++n_;
    seen_->push_back(propensity);
  }
  StopDecision Check() override {
    if (n_ >= after_) decided_ = true;
    StopDecision d;
    d.stop = decided_;
    d.winner = decided_ ? winner_ : std::nullopt;
    d.reason = "fake";
    return d;
  }
  std::string Snapshot() const override { return {}; }
  Status Restore(std::string_view) override { return Status::Ok(); }

 private:
  size_t after_;
  std::optional<size_t> winner_;
  std::shared_ptr<std::vector<double>> seen_;
  size_t n_ = 0;
  bool decided_ = false;
};

// Factories whose policies are RecordingPolicy(arm) logging into `log`.
inline Factories RecordingFactories(int arm, std::shared_ptr<std::vector<Event>> log) {
  Factories f = Factories::Default();
  f.policy = [arm, log](const PolicySpec& spec) -> Result<std::unique_ptr<Policy>> {
    return std::unique_ptr<Policy>(std::make_unique<RecordingPolicy>(spec.num_arms, arm, log));
  };
  return f;
}

}  // namespace banditd::sim::testing
