#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <thread>

#include "sim/environment.h"
#include "sim/progress.h"

namespace banditd::sim {
namespace {

// One reward on its way to the policy.
struct Feedback {
  uint64_t due;  // step at whose end it is delivered (random delay)
  uint64_t seq;  // tie-break: delivery in the order the rewards were earned
  uint32_t arm;
  double reward;
  double propensity;
  std::vector<double> context;  // delayed feedback of a contextual policy only
};

struct LaterFirst {
  bool operator()(const Feedback& a, const Feedback& b) const {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }
};

constexpr uint64_t kProgressChunk = 1 << 16;

}  // namespace

void RecordDecision(const StopDecision& d, uint64_t t, double seconds, const Environment& env,
                    RepResult* out) {
  out->decided = true;
  out->decision_step = t;
  out->decision_seconds = seconds;
  out->winner = d.winner ? static_cast<int64_t>(*d.winner) : -1;
  // With simulated time a lift can fade or hold on weekends only: the
  // decision is judged against the long-run best arm, not today's.
  const bool timed = env.timed();
  const size_t best = timed ? env.long_run_best_arm() : env.best_arm();
  const bool unique = timed ? env.long_run_best_unique() : env.best_unique();
  out->wrong = d.winner.has_value() && (!unique || *d.winner != best);
}

namespace {

class Replication {
 public:
  Replication(const Scenario& s, size_t contender, uint64_t rep, const Factories& f,
              const std::vector<uint64_t>& checkpoints)
      : s_(s),
        c_(s.contenders[contender]),
        f_(f),
        checkpoints_(checkpoints),
        env_(s, rep),
        rng_(Rng::ForStream(s.seed, 2 * rep + 1)),
        alloc_rng_(Rng::ForStream(s.seed ^ 0xA110CA7E5EEDull, rep)),
        keep_log_(s.replacement.prob > 0.0),
        alloc_(s.num_arms(), 1.0 / static_cast<double>(s.num_arms())) {}

  Result<RepResult> Run(std::atomic<uint64_t>* steps_done) {
    auto made = f_.policy(c_.policy);
    if (!made.ok()) return made.status();
    policy_ = std::move(made).value();
    const size_t dim = policy_->context_dim();
    if (dim > 0 && (!s_.contextual() || dim != s_.context.dim())) {
      return InvalidArgument("'" + c_.label + "' needs contexts of length " + std::to_string(dim) +
                             " but the scenario's are " +
                             std::to_string(s_.contextual() ? s_.context.dim() : 0));
    }
    use_context_ = dim > 0;
    if (c_.stopping) {
      auto rule = f_.stopping(*c_.stopping);
      if (!rule.ok()) return rule.status();
      rule_ = std::move(rule).value();
    }
    out_.regret_at.reserve(checkpoints_.size());
    out_.best_share_at.reserve(checkpoints_.size());
    const bool batch = s_.delay.kind == DelaySpec::Kind::kBatch;
    const bool random_delay = s_.delay.kind == DelaySpec::Kind::kRandom;
    size_t next_cp = 0;
    uint64_t interval_best = 0, interval_start = 0, unreported = 0;
    int64_t forced_arm = -1;  // after a promoting decision: the arm that serves everyone
    double propensity = 1.0;

    for (uint64_t t = 1; t <= s_.horizon; ++t) {
      if (auto retired = env_.BeginStep(t)) BANDITD_RETURN_IF_ERROR(Retire(*retired));
      // Non-contextual policies see no context, as in the daemon.
      const std::span<const double> ctx = use_context_ ? env_.context() : std::span<const double>{};

      size_t arm;
      if (forced_arm >= 0) {
        arm = static_cast<size_t>(forced_arm);
      } else {
        // A contextual policy's allocation depends on the request: per step.
        if (rule_ && (use_context_ || (t - 1) % s_.propensity_every == 0)) {
          policy_->Allocation(alloc_rng_, ctx, alloc_);
        }
        if (rule_ && s_.route_by_weights) {
          // As the daemon routes: the logged propensity is exact.
          arm = SampleDiscrete(rng_.Uniform(), alloc_);
          propensity = alloc_[arm];
        } else {
          arm = policy_->Choose(rng_, ctx);
          if (rule_) propensity = std::clamp(alloc_[arm], 1e-6, 1.0);
        }
      }
      const double reward = env_.Reward(arm);
      const double mean = env_.mean(arm);
      out_.regret += env_.best_mean() - mean;
      if (mean >= env_.best_mean()) {
        ++out_.best_pulls;
        ++interval_best;
      } else {
        ++out_.worse_pulls;
        if (!out_.decided) ++out_.worse_pulls_to_decision;
      }

      if (forced_arm < 0) {
        Feedback fb{t + env_.delay(), seq_++, static_cast<uint32_t>(arm), reward, propensity, {}};
        if ((batch || random_delay) && use_context_) fb.context.assign(ctx.begin(), ctx.end());
        if (batch) {
          pending_.push_back(std::move(fb));
          if (t % s_.delay.every == 0) DeliverBatch();
        } else if (random_delay) {
          heap_.push(std::move(fb));
          while (!heap_.empty() && heap_.top().due <= t) {
            Deliver(heap_.top());
            heap_.pop();
          }
        } else {
          Deliver(fb, ctx);
        }
        if (rule_ && !out_.decided && t % s_.check_every == 0) {
          if (s_.timed()) rule_->SetElapsed(env_.seconds());
          const StopDecision d = rule_->Check();
          if (d.stop) {
            RecordDecision(d, t, env_.seconds(), env_, &out_);
            if (s_.promote_on_decision) {
              forced_arm =
                  d.winner ? static_cast<int64_t>(*d.winner) : static_cast<int64_t>(s_.champion);
            }
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
      if (steps_done && ++unreported == kProgressChunk) {
        steps_done->fetch_add(unreported, std::memory_order_relaxed);
        unreported = 0;
      }
    }
    if (steps_done) steps_done->fetch_add(unreported, std::memory_order_relaxed);
    if (!deferred_.ok()) return deferred_;
    return std::move(out_);
  }

 private:
  void Deliver(const Feedback& fb) { Deliver(fb, fb.context); }
  void Deliver(const Feedback& fb, std::span<const double> ctx) {
    if (!unnoticed_.empty()) NoticeReplacements();
    policy_->Update(fb.arm, fb.reward, ctx);
    if (rule_) rule_->Observe(fb.arm, fb.reward, fb.propensity);
    if (keep_log_) log_.emplace_back(fb.arm, fb.reward);
  }

  void DeliverBatch() {
    // A batch is a delivery even when every reward in it was dropped.
    if (!unnoticed_.empty()) NoticeReplacements();
    for (const auto& fb : pending_) Deliver(fb);
    pending_.clear();
  }

  // The item behind `arm` retired (ReplacementSpec). With pending: drop its
  // undelivered rewards go away now; with pending: deliver they stay queued
  // and reach the slot's new item. With notice: at_once the policy forgets
  // the arm now; with notice: next_delivery it keeps serving the slot under
  // the old learned state until the next delivery (NoticeReplacements).
  Status Retire(size_t arm) {
    if (s_.replacement.pending == ReplacementSpec::Pending::kDrop) {
      std::erase_if(pending_, [arm](const Feedback& fb) { return fb.arm == arm; });
      if (!heap_.empty()) {
        std::vector<Feedback> keep;
        while (!heap_.empty()) {
          if (heap_.top().arm != arm) keep.push_back(heap_.top());
          heap_.pop();
        }
        for (const auto& fb : keep) heap_.push(fb);
      }
    }
    if (s_.replacement.notice == ReplacementSpec::Notice::kNextDelivery) {
      if (std::find(unnoticed_.begin(), unnoticed_.end(), arm) == unnoticed_.end())
        unnoticed_.push_back(arm);
      return Status::Ok();
    }
    unnoticed_.assign(1, arm);
    return Rebuild();
  }

  // Called from the delivery path, which returns nothing: an error (the
  // factory refusing a spec it accepted before) is kept and ends the run.
  void NoticeReplacements() {
    const Status st = Rebuild();
    if (!st.ok() && deferred_.ok()) deferred_ = st;
  }

  // Forgets the arms in unnoticed_. The Policy interface has no per-arm
  // reset, so the policy is rebuilt and fed again every delivered reward of
  // the other arms in their original order — exact for every policy whose
  // state depends only on the sequence of rewards it was fed.
  Status Rebuild() {
    std::erase_if(log_, [this](const auto& e) {
      return std::find(unnoticed_.begin(), unnoticed_.end(), e.first) != unnoticed_.end();
    });
    unnoticed_.clear();
    auto made = f_.policy(c_.policy);
    if (!made.ok()) return made.status();
    policy_ = std::move(made).value();
    for (const auto& [a, r] : log_) policy_->Update(a, r, {});
    return Status::Ok();
  }

  const Scenario& s_;
  const ContenderSpec& c_;
  const Factories& f_;
  const std::vector<uint64_t>& checkpoints_;
  Environment env_;
  Rng rng_;
  Rng alloc_rng_;
  bool keep_log_;
  std::vector<double> alloc_;
  bool use_context_ = false;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<StoppingRule> rule_;
  std::vector<Feedback> pending_;
  std::priority_queue<Feedback, std::vector<Feedback>, LaterFirst> heap_;
  std::vector<std::pair<uint32_t, double>> log_;
  std::vector<size_t> unnoticed_;  // retired arms the policy has not yet forgotten
  Status deferred_;
  uint64_t seq_ = 0;
  RepResult out_;
};

}  // namespace

Factories Factories::Default() {
  return Factories{[](const PolicySpec& s) { return MakePolicy(s); },
                   [](const StoppingSpec& s) { return MakeStoppingRule(s); }};
}

std::vector<uint64_t> Checkpoints(uint64_t horizon, int per_decade) {
  std::vector<uint64_t> out;
  for (int k = 0;; ++k) {
    const double v = std::round(std::pow(10.0, static_cast<double>(k) / per_decade));
    if (v >= static_cast<double>(horizon)) break;
    const auto t = static_cast<uint64_t>(v);
    if (out.empty() || t > out.back()) out.push_back(t);
  }
  out.push_back(horizon);
  return out;
}

Status ValidateContenders(const Scenario& scenario, const Factories& factories) {
  for (const auto& c : scenario.contenders) {
    auto p = factories.policy(c.policy);
    if (!p.ok())
      return p.status().WithContext("scenario '" + scenario.name + "', '" + c.label + "'");
    // Revenue is unbounded above: a policy defined for [0, 1] rewards would
    // be fed values outside its model.
    if (scenario.reward == RewardKind::kLognormal && (*p)->reward_range().bounded()) {
      return InvalidArgument("scenario '" + scenario.name + "', '" + c.label + "': policy '" +
                             c.policy.name +
                             "' takes rewards in [0, 1]; lognormal rewards need one for real "
                             "values (e.g. thompson_gaussian, epsilon_greedy, static)");
    }
    if (c.stopping) {
      auto r = factories.stopping(*c.stopping);
      if (!r.ok())
        return r.status().WithContext("scenario '" + scenario.name + "', '" + c.label + "'");
    }
  }
  return Status::Ok();
}

Result<RepResult> RunReplication(const Scenario& scenario, size_t contender, uint64_t rep,
                                 const Factories& factories,
                                 const std::vector<uint64_t>& checkpoints,
                                 std::atomic<uint64_t>* steps_done) {
  if (scenario.engine == EngineKind::kBatched) {
    return RunBatchedReplication(scenario, contender, rep, factories, checkpoints, steps_done);
  }
  Replication r(scenario, contender, rep, factories, checkpoints);
  return r.Run(steps_done);
}

Result<ScenarioResult> RunScenario(const Scenario& scenario, const RunOptions& options,
                                   const Factories& factories) {
  BANDITD_RETURN_IF_ERROR(ValidateContenders(scenario, factories));
  ScenarioResult result;
  result.scenario = scenario;
  result.checkpoints = Checkpoints(scenario.horizon, scenario.checkpoints_per_decade);
  const size_t num_c = scenario.contenders.size();
  const uint64_t runs = scenario.runs;
  for (const auto& c : scenario.contenders) {
    result.contenders.push_back(
        {c.label, c.stopping ? c.stopping->name : std::string(), std::vector<RepResult>(runs)});
  }
  std::vector<Status> errors(num_c * runs);
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> steps_done{0};
  const uint64_t total_items = num_c * runs;
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(total_items)));

  Progress progress(total_items * scenario.horizon, options.label, options.progress, &steps_done);
  auto worker = [&] {
    for (uint64_t i = next.fetch_add(1); i < total_items; i = next.fetch_add(1)) {
      // Replication-major order: all contenders of replication r run close in time.
      const uint64_t rep = i / num_c;
      const size_t c = i % num_c;
      auto r = RunReplication(scenario, c, rep, factories, result.checkpoints, &steps_done);
      if (r.ok()) {
        result.contenders[c].reps[rep] = std::move(r).value();
      } else {
        errors[i] = r.status();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned k = 1; k < threads; ++k) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  progress.Finish();
  for (const auto& e : errors) {
    if (!e.ok()) return e;
  }
  return result;
}

}  // namespace banditd::sim
