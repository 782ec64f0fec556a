#include "src/server/engine_options.h"

namespace banditd::server {
experiment::ExperimentOptions ToExperimentOptions(const config::ExperimentConfig& c) {
  experiment::ExperimentOptions o;
  o.name = c.name;
  o.mode = c.mode;
  o.metric = c.metric;
  for (const auto& a : c.arms) o.arms.push_back({a.name, a.model.has_value()});
  o.champion = c.champion();
  o.policy = c.policy_spec();
  if (c.mode == Mode::kAb) {
    // A/B: static weights, whatever policy name the file carries.
    o.policy.name = "static";
    o.policy.params = Params{};
    if (!c.weights.empty()) o.policy.params.Set("weights", c.weights);
  }
  if (!c.stopping.rule.empty() && c.stopping.rule != "none") {
    o.stopping = MakeStoppingSpec(c.stopping.rule, c.stopping.params, c.arms.size(),
                                  c.champion(), c.metric);
    o.min_duration_s = static_cast<double>(c.stopping.min_duration.count());
  }
  o.srm_threshold = c.srm.threshold;
  o.srm_rewards = c.srm.rewards;
  o.on_decision = c.on_decision;
  o.canary_share = c.canary_share;
  o.guardrails.min_requests = static_cast<uint64_t>(c.guardrails.min_samples);
  o.guardrails.max_error_rate_ratio = c.guardrails.max_error_rate_ratio;
  o.guardrails.max_p99_ratio = c.guardrails.max_p99_latency_ratio;
  o.refresh_interval_ns = static_cast<int64_t>(c.refresh.interval.count()) * 1'000'000;
  o.refresh_every_rewards =
      c.refresh.every_rewards > 0 ? static_cast<uint64_t>(c.refresh.every_rewards) : UINT64_MAX;
  o.salt = c.salt;
  o.context_store_max_bytes = c.context_store_max_bytes;
  return o;
}

experiment::EngineOptions ToEngineOptions(const config::Config& c) {
  experiment::EngineOptions eo;
  for (const auto& e : c.experiments) eo.experiments.push_back(ToExperimentOptions(e));
  eo.reward_window_s = static_cast<uint32_t>(c.reward_window.count() / 1000);
  return eo;
}

}  // namespace banditd::server
