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

// The horizon: what Expire forgot stays refused (as expired) when "now" goes
// back, and it never moves back itself.
TEST(RewardLedgerTest, ForgottenDecisionsStayExpiredWhenTimeGoesBack) {
  RewardLedger ledger(600);
  const uint32_t t0 = 1'700'000'040;  // a minute boundary
  ledger.Record(1, t0);
  ledger.Record(2, t0 + 500);
  ledger.Expire(t0 + 700);
  EXPECT_EQ(ledger.horizon_s(), t0 + 60);
  EXPECT_EQ(ledger.Check(1, t0, t0 + 10).code(), Code::kExpiredDecision);         // forgotten
  EXPECT_EQ(ledger.Check(3, t0, t0 + 10).code(), Code::kExpiredDecision);         // maybe forgotten
  EXPECT_EQ(ledger.Check(2, t0 + 500, t0 + 200).code(), Code::kDuplicateReward);  // kept
  EXPECT_TRUE(ledger.Check(4, t0 + 60, t0 + 100).ok());                           // at the horizon
  ledger.Expire(t0);  // behind: changes nothing
  EXPECT_EQ(ledger.horizon_s(), t0 + 60);
  ledger.RaiseHorizon(t0);
  EXPECT_EQ(ledger.horizon_s(), t0 + 60);
  ledger.RaiseHorizon(t0 + 120);
  EXPECT_EQ(ledger.horizon_s(), t0 + 120);
  EXPECT_TRUE(ledger.Contains(2));
  EXPECT_FALSE(ledger.Contains(1));
}

TEST(RewardLedgerTest, FutureDecisionsBeyondTheSkewAreUnknown) {
  RewardLedger ledger(600);
  const uint32_t t0 = 1'700'000'000;
  EXPECT_TRUE(ledger.Check(1, t0 + RewardLedger::kMaxSkewSeconds, t0).ok());
  EXPECT_EQ(ledger.Check(1, t0 + RewardLedger::kMaxSkewSeconds + 1, t0).code(),
            Code::kUnknownDecision);
  EXPECT_EQ(ledger.Check(1, UINT32_MAX, UINT32_MAX - 10).code(), Code::kOk);
}

}  // namespace
}  // namespace banditd::experiment
