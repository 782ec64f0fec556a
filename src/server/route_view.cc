#include "src/server/route_view.h"

#include <algorithm>

namespace banditd::server {

RouteView::RouteView(const experiment::Experiment& e, size_t readers, bool any_model)
    : tag_(e.tag()),
      epoch_(e.epoch()),
      version_(e.allocation_version()),
      contextual_(e.context_dim() > 0),
      any_model_(any_model),
      weights_(e.weights().begin(), e.weights().end()),
      table_(e.table()),
      hasher_(e.hasher()),
      readers_(readers),
      tallies_(new Tally[readers * e.num_arms()]),
      folded_requests_(readers * e.num_arms(), 0),
      folded_forced_(readers * e.num_arms(), 0),
      folded_drawn_(readers * e.num_arms(), 0) {
  for (const auto& a : e.options().arms) arms_.push_back(a.name);
}

void RouteView::Fold(experiment::Experiment& e) {
  const bool same_epoch = e.epoch() == epoch_;
  std::vector<uint64_t> draws(arms_.size(), 0);
  for (size_t i = 0; i < readers_ * arms_.size(); ++i) {
    const uint64_t req = tallies_[i].requests.load(std::memory_order_relaxed);
    const uint64_t forced = tallies_[i].forced.load(std::memory_order_relaxed);
    const uint64_t drawn = tallies_[i].drawn.load(std::memory_order_relaxed);
    if (same_epoch) {
      e.AddRouted(i % arms_.size(), req - folded_requests_[i], forced - folded_forced_[i]);
      draws[i % arms_.size()] += drawn - folded_drawn_[i];
    }
    folded_requests_[i] = req;
    folded_forced_[i] = forced;
    folded_drawn_[i] = drawn;
  }
  // Drawn from this view's weights: the SRM test's period of this version.
  if (same_epoch) e.AddRoutedDraws(draws, weights_, version_);
}

bool DecideFromView(const RouteView& view, std::optional<std::string_view> unit,
                    std::optional<std::string_view> forced_arm, uint32_t boot, uint32_t seq,
                    int64_t issued_ns, Rng& rng, const experiment::DecisionCodec& codec,
                    ViewDecision* out) {
  experiment::DecisionRef& ref = out->ref;
  ref = experiment::DecisionRef{};
  double p = 1.0;
  size_t arm = 0;
  out->unit_hash = unit ? view.hasher().Hash(*unit) : 0;
  if (forced_arm) {
    const auto& arms = view.arms();
    while (arm < arms.size() && arms[arm] != *forced_arm) ++arm;
    if (arm == arms.size()) return false;
    ref.flags = experiment::DecisionRef::kForcedFlag;
  } else if (unit) {
    arm = view.table().ArmForHash(out->unit_hash);
    p = view.table().Share(arm);
  } else {
    arm = SampleDiscrete(rng.Uniform(), view.weights());
    p = view.weights()[arm];
  }
  ref.tag = view.tag();
  ref.epoch = view.epoch();
  ref.arm = static_cast<uint8_t>(arm);
  ref.boot = boot;
  ref.seq = seq;
  ref.issued_s = static_cast<uint32_t>(issued_ns / 1'000'000'000);
  ref.propensity = static_cast<float>(p);
  codec.Encode(ref, out->id);
  return true;
}

ViewBoard::ViewBoard(size_t experiments, size_t readers)
    : readers_(readers),
      experiments_(experiments),
      views_(new std::atomic<RouteView*>[experiments]),
      seen_(new Seen[readers]) {
  for (size_t i = 0; i < experiments; ++i) views_[i].store(nullptr);
}

ViewBoard::~ViewBoard() {
  // The owner destroys the board after every reader stopped.
  for (size_t i = 0; i < experiments_; ++i) delete views_[i].load();
}

void ViewBoard::Enter(size_t r) {
  // Sequentially consistent on both sides (see Reclaim): a reader that
  // publishes generation g loads views no older than those retired before g.
  seen_[r].generation.store(generation_.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
}

void ViewBoard::Leave(size_t r) { seen_[r].generation.store(kOut, std::memory_order_seq_cst); }

void ViewBoard::Publish(size_t experiment, std::unique_ptr<RouteView> view) {
  RouteView* old = views_[experiment].exchange(view.release(), std::memory_order_seq_cst);
  // Readers that enter from now on see the new view.
  const uint64_t g = generation_.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (old != nullptr) {
    retired_.push_back(Retired{std::unique_ptr<RouteView>(old), experiment, g});
  }
}

void ViewBoard::Reclaim(experiment::Engine& engine) {
  for (size_t e = 0; e < engine.num_experiments(); ++e) {
    if (RouteView* v = views_[e].load(std::memory_order_seq_cst)) {
      v->Fold(engine.experiment(e));
    }
  }
  if (retired_.empty()) return;
  // A reader out of its round holds no view; one inside holds none retired
  // before the generation it entered at.
  uint64_t oldest = kOut;
  for (size_t r = 0; r < readers_; ++r) {
    oldest = std::min(oldest, seen_[r].generation.load(std::memory_order_seq_cst));
  }
  auto keep = std::remove_if(retired_.begin(), retired_.end(), [&](Retired& x) {
    if (x.generation > oldest) return false;
    x.view->Fold(engine.experiment(x.experiment));
    x.view.reset();
    return true;
  });
  retired_.erase(keep, retired_.end());
}

}  // namespace banditd::server
