#include "src/experiment/reward_ledger.h"

#include <gtest/gtest.h>

namespace banditd::experiment {
namespace {

TEST(RewardLedgerTest, DuplicatesAndExpiredAreRefused) {
  RewardLedger ledger(/*window_s=*/3600);
  const uint32_t t0 = 1'700'000'000;
  EXPECT_TRUE(ledger.Check(1, t0, t0 + 10).ok());
  ledger.Record(1, t0);
  EXPECT_EQ(ledger.Check(1, t0, t0 + 20).code(), Code::kDuplicateReward);
  EXPECT_TRUE(ledger.Check(2, t0, t0 + 3600).ok());  // the window's last second
  EXPECT_EQ(ledger.Check(2, t0, t0 + 3601).code(), Code::kExpiredDecision);
  EXPECT_EQ(ledger.Check(3, t0 + 1000, t0).code(), Code::kUnknownDecision);  // from the future
}

TEST(RewardLedgerTest, ExpireForgetsOnlyWhatIsPastTheWindow) {
  RewardLedger ledger(600);
  const uint32_t t0 = 1'700'000'000;
  ledger.Record(1, t0);
  ledger.Record(2, t0 + 500);
  ledger.Expire(t0 + 700);
  EXPECT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger.Check(2, t0 + 500, t0 + 700).code(), Code::kDuplicateReward);
  EXPECT_EQ(ledger.Entries().size(), 1u);
}

}  // namespace
}  // namespace banditd::experiment
