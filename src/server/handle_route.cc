// route: decide the arm, answer inline for route-only arms, or run the arm's
// model on the worker pool and answer when it completes.
#include <spdlog/spdlog.h>

#include "src/protocol/encoder.h"
#include "src/server/daemon.h"

namespace banditd::server {
namespace {

void RecordOutput(OutputStats& s, std::span<const float> out) {
  if (out.empty()) return;
  const double v = out[0];
  ++s.count;
  s.sum += v;
  s.sum_sq += v * v;
  const size_t bucket =
      (v >= 0.0 && v <= 1.0) ? std::min<size_t>(9, static_cast<size_t>(v * 10)) : 10;
  ++s.deciles[bucket];
}

}  // namespace

void Daemon::HandleRoute(const wire::Request& req, Envelope env, zmq::socket_t& socket) {
  const wire::RouteRequest& r = *req.route();
  // A contextual experiment refuses a missing or wrong-length context
  // (bad_context) before deciding anything; other experiments only log it.
  auto d = engine_->Route(r.exp, r.unit, r.arm, r.context);
  if (!d.ok()) {
    SendError(socket, env, req.id, d.status().code(), d.status().message());
    return;
  }
  const size_t e = d->experiment;
  const auto& exp = engine_->experiment(e);
  const size_t arm = d->ref.arm;
  const std::string_view id_text(d->id.data(), d->id.size());
  const auto& slot = slots_[e][arm];

  if (!slot || !r.input.present()) {
    // Route-only: answered here, on the I/O thread.
    protocol::EncodeRouteReply(
        wire::RouteReply{req.id, id_text, exp.options().arms[arm].name, d->ref.propensity,
                         d->ref.epoch, std::nullopt, std::nullopt},
        &out_);
    Send(socket, env, out_);
    decision_log_->Decision(
        {.wall_ns = clock_.WallNanos(),
         .exp = exp.name(),
         .epoch = d->ref.epoch,
         .decision = id_text,
         .arm = exp.options().arms[arm].name,
         .propensity = d->ref.propensity,
         .forced = (d->ref.flags & experiment::DecisionRef::kForcedFlag) != 0,
         .unit_hash = d->unit_hash,
         .context = r.context.value_or(std::span<const double>{}),
         .output = {}});
    return;
  }

  // The input must fit the model before anything is queued.
  const auto model = slot->Get();
  Status shape_ok =
      r.input.form == wire::InputView::Form::kTensor
          ? model->CheckShape(r.input.dims())
          : (r.input.num_elements() == model->input_size()
                 ? Status::Ok()
                 : Status(Code::kInvalidInput,
                          "input has " + std::to_string(r.input.num_elements()) +
                              " values; the model of arm '" + exp.options().arms[arm].name +
                              "' takes " + std::to_string(model->input_size())));
  if (!shape_ok.ok()) {
    SendError(socket, env, req.id, shape_ok.code(), shape_ok.message());
    return;
  }
  std::vector<float> input(r.input.num_elements());
  r.input.CopyTo(input);

  // Shadow mode: the champion answers; the challengers run on the same input
  // and are only logged.
  if (exp.options().mode == Mode::kShadow) {
    for (size_t a = 0; a < slots_[e].size(); ++a) {
      if (a == arm || !slots_[e][a]) continue;
      const uint64_t tag = next_tag_++;
      Status s =
          pool_->Submit(model::InferenceJob{slots_[e][a], input, tag, completions_.Callback()});
      if (s.ok()) shadows_[tag] = PendingShadow{e, a, std::string(id_text)};
    }
  }

  const uint64_t tag = next_tag_++;
  PendingRoute pr{std::move(env), std::string(req.id), *d,           {}, arm,
                  false,          clock_.MonoNanos(),  std::nullopt, {}};
  const bool may_fallback = arm != exp.options().champion;
  if (may_fallback) pr.input = input;
  Status s =
      pool_->Submit(model::InferenceJob{slot, std::move(input), tag, completions_.Callback()});
  if (!s.ok()) {
    SendError(socket, pr.env, req.id, s.code(), s.message());
    return;
  }
  if (r.context) pr.context.assign(r.context->begin(), r.context->end());
  pr.socket = &socket;
  routes_.emplace(tag, std::move(pr));
  if (config_.inference.spin.count() > 0) {
    spin_until_ns_ = clock_.MonoNanos() + config_.inference.spin.count() * 1000;
  }
}

void Daemon::OnInferenceResults() {
  results_.clear();
  completions_.Drain(&results_);
  for (auto& res : results_) {
    if (auto sh = shadows_.find(res.tag); sh != shadows_.end()) {
      auto& exp = engine_->experiment(sh->second.experiment);
      const uint64_t ns = static_cast<uint64_t>(res.compute_time.count());
      exp.RecordServe(sh->second.arm, ns, !res.status.ok());
      if (res.status.ok())
        RecordOutput(outputs_[sh->second.experiment][sh->second.arm], res.output);
      decision_log_->Shadow(clock_.WallNanos(), exp.name(), sh->second.decision,
                            exp.options().arms[sh->second.arm].name, ns / 1e3, res.output);
      shadows_.erase(sh);
      continue;
    }
    auto it = routes_.find(res.tag);
    if (it == routes_.end()) continue;
    PendingRoute pr = std::move(it->second);
    routes_.erase(it);
    const size_t e = pr.decision.experiment;
    auto& exp = engine_->experiment(e);
    exp.RecordServe(pr.served_arm, static_cast<uint64_t>(res.compute_time.count()),
                    res.status.code() == Code::kModelError);
    const size_t champion = exp.options().champion;

    if (res.status.code() == Code::kModelError && pr.served_arm != champion && !pr.fallback &&
        slots_[e][champion]) {
      // The challenger failed: the champion answers, and the failure counts
      // against the challenger (guardrails).
      spdlog::debug("arm {}/{} failed ({}); the champion answers", exp.name(),
                    exp.options().arms[pr.served_arm].name, res.status.message());
      auto fb = engine_->Route(exp.name(), std::nullopt,
                               std::string_view(exp.options().arms[champion].name));
      // The client gets the fallback's id: the failed decision's context
      // will never be rewarded.
      exp.contexts().Erase(pr.decision.ref.key());
      if (fb.ok()) pr.fallback_decision = *fb;
      pr.fallback = true;
      pr.served_arm = champion;
      const uint64_t tag = next_tag_++;
      auto input = std::move(pr.input);
      Status s = pool_->Submit(
          model::InferenceJob{slots_[e][champion], std::move(input), tag, completions_.Callback()});
      if (s.ok()) {
        routes_.emplace(tag, std::move(pr));
        continue;
      }
      res.status = s;
    }
    if (!res.status.ok()) {
      SendError(*pr.socket, pr.env, pr.id, res.status.code(), res.status.message());
      continue;
    }
    RecordOutput(outputs_[e][pr.served_arm], res.output);
    // The reply names the chosen arm and its propensity; after a fallback the
    // decision id is the champion's forced one.
    const experiment::Decision& logged = pr.fallback_decision ? *pr.fallback_decision : pr.decision;
    const std::string_view id_text(logged.id.data(), logged.id.size());
    const std::string& arm_name = exp.options().arms[pr.decision.ref.arm].name;
    std::optional<std::string_view> served_by;
    if (pr.served_arm != pr.decision.ref.arm) served_by = exp.options().arms[pr.served_arm].name;
    protocol::EncodeRouteReply(
        wire::RouteReply{pr.id, id_text, arm_name, pr.decision.ref.propensity,
                         pr.decision.ref.epoch, std::span<const float>(res.output), served_by},
        &out_);
    Send(*pr.socket, pr.env, out_);
    decision_log_->Decision({.wall_ns = clock_.WallNanos(),
                             .exp = exp.name(),
                             .epoch = logged.ref.epoch,
                             .decision = id_text,
                             .arm = exp.options().arms[logged.ref.arm].name,
                             .propensity = logged.ref.propensity,
                             .forced = (logged.ref.flags & experiment::DecisionRef::kForcedFlag) != 0,
                             .unit_hash = logged.unit_hash,
                             .context = pr.context,
                             .output = res.output});
  }
}

}  // namespace banditd::server
