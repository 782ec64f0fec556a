// The words the config file, the wire protocol, status reports and the code
// share, each declared once with its names: the config loader reads them by
// these names, status and metrics print them, and every layer uses the same
// enum (no converters between look-alike copies).
//
//   NameOf(Mode::kAb)            -> "ab"
//   FromName<Mode>("canary")     -> Mode::kCanary (nullopt for anything else)
//   NamesOf<Mode>()              -> {"bandit", "ab", "shadow", "canary"}
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "banditd/stopping.h"

namespace banditd {

// How an experiment splits traffic (docs/config.md, `mode`).
enum class Mode : uint8_t { kBandit, kAb, kShadow, kCanary };

// What a decision of the stopping rule does (`on_decision`).
enum class OnDecision : uint8_t { kHold, kPromote };
inline constexpr OnDecision kDefaultOnDecision = OnDecision::kHold;

// An experiment's lifecycle state, as status reports it.
enum class ExperimentState : uint8_t { kRunning, kDecided, kPromoted, kPaused, kRolledBack };

// When an acked reward is fsynced (`durability.mode`).
enum class Durability : uint8_t { kAlways, kGroup, kNone };

// The names, in enum order.
template <typename E>
struct Vocabulary;

template <>
struct Vocabulary<Mode> {
  static constexpr std::array<std::string_view, 4> kNames = {"bandit", "ab", "shadow", "canary"};
};
template <>
struct Vocabulary<OnDecision> {
  static constexpr std::array<std::string_view, 2> kNames = {"hold", "promote"};
};
template <>
struct Vocabulary<ExperimentState> {
  static constexpr std::array<std::string_view, 5> kNames = {"running", "decided", "promoted",
                                                             "paused", "rolled_back"};
};
template <>
struct Vocabulary<Durability> {
  static constexpr std::array<std::string_view, 3> kNames = {"always", "group", "none"};
};
template <>
struct Vocabulary<Metric> {
  static constexpr std::array<std::string_view, 2> kNames = {"bernoulli", "gaussian"};
};

template <typename E>
constexpr std::span<const std::string_view> NamesOf() {
  return Vocabulary<E>::kNames;
}

template <typename E>
constexpr std::string_view NameOf(E value) {
  const auto i = static_cast<size_t>(value);
  return i < Vocabulary<E>::kNames.size() ? Vocabulary<E>::kNames[i] : std::string_view("?");
}

template <typename E>
constexpr std::optional<E> FromName(std::string_view name) {
  for (size_t i = 0; i < Vocabulary<E>::kNames.size(); ++i) {
    if (Vocabulary<E>::kNames[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace banditd
