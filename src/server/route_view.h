// Read-only views of the experiments' allocations for the extra I/O threads
// (route_thread.h). The main I/O thread owns the Engine; after every
// allocation change (Experiment::allocation_version) it publishes a new
// immutable RouteView of that experiment, and route threads read the current
// one without taking a lock: readers of the allocation take no locks, the
// owner publishes immutable snapshots.
//
// Old views are freed by quiescent-state-based reclamation (McKenney &
// Slingwine's QSBR): each reader announces at the start of every round of
// work (Enter) the newest generation it has seen, and before it blocks
// (Leave) that it holds no view at all. A view retired at generation g is
// freed once every reader is out or has entered at g or later. Readers pay
// two stores and one load per round, whatever the round's size.
//
// Requests routed from a view are counted in the view itself, per reader and
// arm (each reader's counters on their own cache lines); the owner folds them
// into the experiment's counters (Fold), and the rest when the view is freed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "banditd/rng.h"
#include "src/experiment/assignment.h"
#include "src/experiment/decision_id.h"
#include "src/experiment/engine.h"
#include "src/experiment/experiment.h"

namespace banditd::server {

class RouteView {
 public:
  // A copy of `e`'s allocation; `readers` threads count requests in it.
  RouteView(const experiment::Experiment& e, size_t readers, bool any_model);

  uint16_t tag() const { return tag_; }
  uint16_t epoch() const { return epoch_; }
  uint64_t version() const { return version_; }
  // Requests that only the main I/O thread may serve: contextual policies
  // (their context store has one owner) and experiments with models when the
  // request carries an input.
  bool contextual() const { return contextual_; }
  bool any_model() const { return any_model_; }
  const std::vector<std::string>& arms() const { return arms_; }
  const std::vector<double>& weights() const { return weights_; }
  const experiment::AllocationTable& table() const { return table_; }
  const experiment::UnitHasher& hasher() const { return hasher_; }

  // Reader `r` routed a request to `arm` (forced: an operator-chosen arm;
  // drawn: a draw from the weights, neither forced nor by unit — what the
  // SRM test counts). Only reader r writes its counters: a plain load and
  // store suffice.
  void Count(size_t r, size_t arm, bool forced, bool drawn = false) const {
    Tally& t = tallies_[r * arms_.size() + arm];
    t.requests.store(t.requests.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (forced)
      t.forced.store(t.forced.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (drawn)
      t.drawn.store(t.drawn.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // Owner: adds what readers counted since the last Fold to `e` when it is
  // still in this view's epoch (an older epoch's counters were reset).
  void Fold(experiment::Experiment& e);

 private:
  struct alignas(64) Tally {
    std::atomic<uint64_t> requests{0}, forced{0}, drawn{0};
  };

  uint16_t tag_, epoch_;
  uint64_t version_;
  bool contextual_, any_model_;
  std::vector<std::string> arms_;
  std::vector<double> weights_;
  experiment::AllocationTable table_;
  experiment::UnitHasher hasher_;
  size_t readers_;
  std::unique_ptr<Tally[]> tallies_;
  // Owner only: what Fold has already added, per reader and arm.
  std::vector<uint64_t> folded_requests_, folded_forced_, folded_drawn_;
};

// A route-only decision made from a view, as the extra I/O threads make it
// (the same draw as Experiment::Route): a forced arm (propensity 1), the
// unit's sticky slot, or a draw from the weights. False when the forced arm
// does not exist (the main thread then answers the error). `issued_ns` is
// the engine's time (Engine::decision_time), not the wall clock.
struct ViewDecision {
  experiment::DecisionRef ref;
  experiment::DecisionIdText id;
  uint64_t unit_hash = 0;  // 0 without a unit
};
bool DecideFromView(const RouteView& view, std::optional<std::string_view> unit,
                    std::optional<std::string_view> forced_arm, uint32_t boot, uint32_t seq,
                    int64_t issued_ns, Rng& rng, const experiment::DecisionCodec& codec,
                    ViewDecision* out);

class ViewBoard {
 public:
  ViewBoard(size_t experiments, size_t readers);
  ~ViewBoard();
  ViewBoard(const ViewBoard&) = delete;
  ViewBoard& operator=(const ViewBoard&) = delete;

  size_t readers() const { return readers_; }

  // Readers. Between Enter(r) and Leave(r), Get returns views that stay valid
  // until that Leave or the next Enter; after Leave, none may be used.
  void Enter(size_t r);
  void Leave(size_t r);
  const RouteView* Get(size_t experiment) const {
    return views_[experiment].load(std::memory_order_seq_cst);
  }

  // Owner (one thread). Publish replaces an experiment's view; the old one is
  // retired and freed by a later Reclaim once no reader can hold it.
  void Publish(size_t experiment, std::unique_ptr<RouteView> view);
  // Folds the current views' counts into the engine's experiments (indexed
  // like the views) and frees the retired views no reader can hold, folding
  // their last counts first.
  void Reclaim(experiment::Engine& engine);
  size_t retired() const { return retired_.size(); }

 private:
  static constexpr uint64_t kOut = UINT64_MAX;
  struct alignas(64) Seen {
    std::atomic<uint64_t> generation{kOut};
  };
  struct Retired {
    std::unique_ptr<RouteView> view;
    size_t experiment;
    uint64_t generation;
  };

  size_t readers_;
  size_t experiments_;
  std::atomic<uint64_t> generation_{1};
  // Owner-mutable (Fold); readers get const pointers.
  std::unique_ptr<std::atomic<RouteView*>[]> views_;
  std::unique_ptr<Seen[]> seen_;
  std::vector<Retired> retired_;
};

}  // namespace banditd::server
