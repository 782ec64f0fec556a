#include "src/experiment/decision_id.h"

#include <string>

#include <gtest/gtest.h>

namespace banditd::experiment {
namespace {

DecisionKey Key(unsigned char fill) {
  DecisionKey k;
  k.fill(fill);
  return k;
}

TEST(DecisionIdTest, RoundTripsEveryField) {
  DecisionCodec codec(Key(7));
  DecisionRef ref{ExperimentTag("ctr"), 3,    1, DecisionRef::kForcedFlag, 0xDEADBEEF, 42,
                  1'700'000'123,        0.37f};
  DecisionIdText text;
  codec.Encode(ref, text);
  const std::string id(text.data(), text.size());
  EXPECT_EQ(id.size(), 40u);
  EXPECT_EQ(
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  auto back = codec.Decode(id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tag, ref.tag);
  EXPECT_EQ(back->epoch, 3);
  EXPECT_EQ(back->arm, 1);
  EXPECT_EQ(back->flags, DecisionRef::kForcedFlag);
  EXPECT_EQ(back->boot, 0xDEADBEEFu);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->issued_s, 1'700'000'123u);
  EXPECT_EQ(back->propensity, 0.37f);
  EXPECT_EQ(back->key(), (uint64_t{0xDEADBEEF} << 32) | 42);
}

TEST(DecisionIdTest, RefusesForgedMangledAndForeignIds) {
  DecisionCodec codec(Key(7));
  DecisionRef ref{1, 0, 0, 0, 1, 2, 3, 0.5f};
  DecisionIdText text;
  codec.Encode(ref, text);
  std::string id(text.data(), text.size());

  // Every single-character change is caught by the MAC.
  for (size_t i = 0; i < id.size(); ++i) {
    std::string bad = id;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(codec.Decode(bad).status().code(), Code::kUnknownDecision) << "position " << i;
  }
  EXPECT_EQ(codec.Decode("").status().code(), Code::kUnknownDecision);
  EXPECT_EQ(codec.Decode(id + "A").status().code(), Code::kUnknownDecision);
  EXPECT_EQ(codec.Decode(std::string(40, '*')).status().code(), Code::kUnknownDecision);
  // Another daemon's key (another state dir) does not accept it.
  EXPECT_EQ(DecisionCodec(Key(8)).Decode(id).status().code(), Code::kUnknownDecision);
}

TEST(DecisionIdTest, TagsAreStable) {
  EXPECT_EQ(ExperimentTag("ctr"), ExperimentTag("ctr"));
  EXPECT_NE(ExperimentTag("ctr"), ExperimentTag("ctr2"));
}

// Decision time follows the monotonic clock from the wall clock it was built
// at: a later step of the wall clock does not move it.
TEST(DecisionTimeTest, FollowsTheMonotonicClockNotWallSteps) {
  ManualClock clock(int64_t{1'700'000'000} * 1'000'000'000);
  clock.Advance(5'000'000'000);
  const DecisionTime time(clock);
  EXPECT_EQ(time.Seconds(clock.MonoNanos()), 1'700'000'005u);
  clock.Advance(61'000'000'000);
  EXPECT_EQ(time.Seconds(clock.MonoNanos()), 1'700'000'066u);
  ManualClock stepped(int64_t{1'900'000'000} * 1'000'000'000);  // same monotonic time, wall ahead
  stepped.Advance(66'000'000'000);
  EXPECT_EQ(time.Seconds(stepped.MonoNanos()), 1'700'000'066u);
  EXPECT_EQ(DecisionTime(stepped).Seconds(stepped.MonoNanos()), 1'900'000'066u);
  EXPECT_EQ(time.Seconds(-int64_t{1'800'000'000} * 1'000'000'000), 0u);  // clamped
}

}  // namespace
}  // namespace banditd::experiment
