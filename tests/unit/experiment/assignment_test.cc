#include "src/experiment/assignment.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::experiment {
namespace {

std::vector<size_t> AssignUnits(const AllocationTable& t, const UnitHasher& h, int n) {
  std::vector<size_t> arms;
  for (int i = 0; i < n; ++i) arms.push_back(t.ArmForHash(h.Hash("user-" + std::to_string(i))));
  return arms;
}

TEST(AssignmentTest, SharesFollowWeights) {
  AllocationTable t(3, 0);
  const double w[] = {0.5, 0.3, 0.2};
  t.Rebalance(w);
  EXPECT_NEAR(t.Share(0), 0.5, 1.0 / AllocationTable::kSlots);
  EXPECT_NEAR(t.Share(1), 0.3, 1.0 / AllocationTable::kSlots);
  EXPECT_NEAR(t.Share(2), 0.2, 1.0 / AllocationTable::kSlots);
  EXPECT_DOUBLE_EQ(t.Share(0) + t.Share(1) + t.Share(2), 1.0);
}

// Units keep their arm across 10,000 requests while the weights are unchanged.
TEST(AssignmentTest, UnitsAreSticky) {
  AllocationTable t(2, 0);
  const double w[] = {0.6, 0.4};
  t.Rebalance(w);
  UnitHasher h("salt-1");
  const auto first = AssignUnits(t, h, 10000);
  t.Rebalance(w);  // recomputed with the same weights: nothing moves
  EXPECT_EQ(AssignUnits(t, h, 10000), first);
  // The realised shares of 10,000 units are within 4 standard errors of the weights.
  size_t ones = 0;
  for (size_t a : first) ones += a;
  EXPECT_NEAR(ones / 10000.0, 0.4, 4 * std::sqrt(0.24 / 10000));
}

// A weight change moves the fewest units possible: the total-variation
// distance between old and new shares.
TEST(AssignmentTest, WeightChangeMovesOnlyTheNecessaryUnits) {
  AllocationTable t(3, 0);
  UnitHasher h("salt-2");
  const double before[] = {0.5, 0.25, 0.25};
  t.Rebalance(before);
  const auto a = AssignUnits(t, h, 100000);
  const double after[] = {0.4, 0.25, 0.35};  // 10 points from arm 0 to arm 2
  const size_t moved_slots = t.Rebalance(after);
  EXPECT_NEAR(static_cast<double>(moved_slots) / AllocationTable::kSlots, 0.10, 2e-5);
  const auto b = AssignUnits(t, h, 100000);
  size_t moved = 0, moved_wrongly = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    ++moved;
    // Only arm 0 shrank and only arm 2 grew.
    if (!(a[i] == 0 && b[i] == 2)) ++moved_wrongly;
  }
  EXPECT_EQ(moved_wrongly, 0u);
  EXPECT_NEAR(moved / 100000.0, 0.10, 4 * std::sqrt(0.09 / 100000));
}

TEST(AssignmentTest, SaltSeparatesExperiments) {
  UnitHasher a("exp-a"), b("exp-b");
  EXPECT_EQ(a.Hash("u1"), UnitHasher("exp-a").Hash("u1"));
  EXPECT_NE(a.Hash("u1"), b.Hash("u1"));
}

}  // namespace
}  // namespace banditd::experiment
