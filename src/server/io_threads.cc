// The extra I/O threads of the api (sockets.api_extra; route_thread.h): start
// them, keep their views of the allocations current, and collect what they
// counted and logged.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "src/server/daemon.h"

namespace banditd::server {

Status Daemon::StartIoThreads() {
  if (extra_routers_.empty()) return Status::Ok();
  const size_t n = extra_routers_.size();
  views_ = std::make_unique<ViewBoard>(engine_->num_experiments(), n);
  any_model_.assign(engine_->num_experiments(), 0);
  for (size_t e = 0; e < slots_.size(); ++e) {
    any_model_[e] = std::any_of(slots_[e].begin(), slots_[e].end(),
                                [](const auto& slot) { return slot != nullptr; });
  }
  PublishViews();
  std::vector<std::string> names;
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    names.push_back(engine_->experiment(e).name());
  }
  const uint64_t seed = static_cast<uint64_t>(clock_.WallNanos());
  for (size_t i = 0; i < n; ++i) {
    const std::string ep = "inproc://banditd-io-relay-" + std::to_string(i + 1);
    auto main_end = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
    zmq::socket_t thread_end(ctx_, zmq::socket_type::pair);
    try {
      for (zmq::socket_t* s : {main_end.get(), &thread_end}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::rcvhwm, 100000);
        s->set(zmq::sockopt::sndhwm, 100000);
      }
      main_end->bind(ep);
      thread_end.connect(ep);
    } catch (const zmq::error_t& e) {
      return Status(Code::kInternal, "cannot set up relay " + ep + ": " + e.what());
    }
    RouteThreadOptions o;
    o.reader = i;
    // A boot id of its own keeps its decision keys apart from the main
    // thread's and the other threads' (DecisionRef::key).
    o.boot = engine_->boot() + static_cast<uint32_t>(i) + 1;
    std::copy(store_->decision_key().begin(), store_->decision_key().end(), o.key.begin());
    o.decision_time = engine_->decision_time();
    o.seed = seed + 0x9E3779B97F4A7C15ull * (i + 1);
    o.experiments = names;
    o.limits = decoder_.limits();
    o.reply_budget = &reply_budget_;
    sockets_.push_back(main_end.get());
    relays_.push_back(std::move(main_end));
    io_threads_.push_back(std::make_unique<RouteThread>(std::move(o), std::move(extra_routers_[i]),
                                                        std::move(thread_end), *views_, clock_,
                                                        io_thread_log_));
  }
  extra_routers_.clear();
  for (auto& t : io_threads_) t->Start();
  spdlog::info("{} extra api I/O thread(s) serving route-only routes", n);
  return Status::Ok();
}

void Daemon::PublishViews() {
  if (!views_) return;
  for (size_t e = 0; e < engine_->num_experiments(); ++e) {
    const experiment::Experiment& x = engine_->experiment(e);
    const RouteView* v = views_->Get(e);
    // A new epoch recomputes the weights too (Experiment::NewEpoch), so the
    // version alone tells whether the view is current.
    if (v != nullptr && v->version() == x.allocation_version()) {
      continue;
    }
    views_->Publish(e, std::make_unique<RouteView>(x, views_->readers(), any_model_[e] != 0));
  }
}

void Daemon::CollectFromIoThreads() {
  if (!views_) return;
  views_->Reclaim(*engine_);
  std::vector<LogChunk> chunks;
  io_thread_log_.Drain(&chunks);
  for (const auto& c : chunks) decision_log_->Append(c.text, c.lines);
}

}  // namespace banditd::server
