// ReplySender over inproc, where a reply stays in the pipe (charged) until
// its peer reads it: the per-peer share, the global bound, the room kept for
// peers with nothing queued, and the release of every charge.
#include "src/server/reply_budget.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::server {
namespace {

constexpr size_t kBound = 1 << 20;  // per peer: 64 KiB
const std::string kPayload(4000, 'r');
constexpr int64_t kCharge = 4000 + 5 + 2 * ReplyBudget::kFrameOverhead;  // body + 5-byte id

class ReplyBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override { router_.bind("inproc://reply-budget-test"); }
  // A DEALER named `name` that has sent one request (so the ROUTER knows it).
  std::unique_ptr<zmq::socket_t> Peer(const std::string& name) {
    auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::routing_id, name);
    s->set(zmq::sockopt::linger, 0);
    s->connect("inproc://reply-budget-test");
    s->send(zmq::str_buffer("hello"), zmq::send_flags::none);
    zmq::message_t id, body;
    EXPECT_TRUE(router_.recv(id));
    EXPECT_TRUE(router_.recv(body));
    EXPECT_EQ(id.to_string(), name);
    return s;
  }
  ReplySender::Result Send(const std::string& peer) {
    const std::string_view env[] = {peer};
    return sender_.Send(router_, env, kPayload);
  }
  // Reads every reply waiting at `peer`; how many.
  static int Drain(zmq::socket_t& peer) {
    int n = 0;
    zmq::message_t m;
    while (peer.recv(m, zmq::recv_flags::dontwait)) ++n;
    return n;
  }

  ReplyBudget budget_{kBound};  // outlives the context (declared first)
  zmq::context_t ctx_;
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  ReplySender sender_{budget_};
};

TEST_F(ReplyBudgetTest, APeerWithRepliesQueuedHoldsAtMostItsShare) {
  auto peer = Peer("peer1");
  int sent = 0;
  for (int i = 0; i < 100; ++i) sent += Send("peer1") == ReplySender::Result::kSent;
  EXPECT_EQ(sent, budget_.max_peer_bytes() / kCharge);
  EXPECT_EQ(budget_.bytes(), sent * kCharge);
  EXPECT_LE(budget_.bytes(), budget_.max_peer_bytes());
  EXPECT_EQ(budget_.dropped(), static_cast<uint64_t>(100 - sent));
  // Another peer is not affected.
  auto other = Peer("peer2");
  EXPECT_EQ(Send("peer2"), ReplySender::Result::kSent);
  // Reading the replies releases their charge (libzmq frees each body as
  // its reader closes it), and the peer is served again.
  EXPECT_EQ(Drain(*peer), sent);
  EXPECT_EQ(Drain(*other), 1);
  EXPECT_EQ(budget_.bytes(), 0);
  EXPECT_EQ(Send("peer1"), ReplySender::Result::kSent);
  EXPECT_EQ(Drain(*peer), 1);
  EXPECT_EQ(budget_.bytes(), 0);
}

TEST_F(ReplyBudgetTest, BeyondSevenEighthsOnlyPeersWithNothingQueuedAreServed) {
  // 20 stalled peers ask for more than the whole bound (20 x 1/16).
  constexpr int kStalled = 20;
  std::vector<std::unique_ptr<zmq::socket_t>> stalled;
  for (int p = 0; p < kStalled; ++p) {
    stalled.push_back(Peer("s" + std::to_string(p)));
    for (int i = 0; i < 100; ++i) (void)Send("s" + std::to_string(p));
  }
  // Past 7/8 only each peer's first reply (it had nothing queued) was taken.
  const int64_t max = budget_.max_bytes();
  EXPECT_GE(budget_.bytes(), max - max / 8 - kCharge);
  EXPECT_LE(budget_.bytes(), max - max / 8 + kStalled * kCharge);
  EXPECT_GT(budget_.dropped(), 0u);
  // A peer with nothing queued gets its replies, one at a time.
  auto reader = Peer("reader");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(Send("reader"), ReplySender::Result::kSent) << i;
    ASSERT_EQ(Drain(*reader), 1);
  }
  EXPECT_LE(budget_.bytes(), max);
  stalled.clear();  // closing the peers drops their queues: all released
  // libzmq frees their queues on its reaper thread once the ROUTER has
  // acknowledged the pipes' termination (a receive processes its commands).
  for (int i = 0; i < 5000 && budget_.bytes() != 0; ++i) {
    zmq::message_t m;
    (void)router_.recv(m, zmq::recv_flags::dontwait);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(budget_.bytes(), 0);
}

TEST_F(ReplyBudgetTest, AReplyToAnUnknownPeerIsReleasedAtOnce) {
  EXPECT_EQ(Send("nobody"), ReplySender::Result::kSent);  // ROUTER drops it
  EXPECT_EQ(budget_.bytes(), 0);
  EXPECT_EQ(budget_.dropped(), 0u);
}

TEST_F(ReplyBudgetTest, AReplyOverTheShareGoesToAPeerWithNothingQueued) {
  auto peer = Peer("big");
  const std::string big(budget_.max_peer_bytes() * 2, 'b');
  const std::string_view env[] = {"big"};
  EXPECT_EQ(sender_.Send(router_, env, big), ReplySender::Result::kSent);
  EXPECT_EQ(sender_.Send(router_, env, big), ReplySender::Result::kDropped);
  EXPECT_EQ(Drain(*peer), 1);
  const std::string too_big(kBound, 'x');  // with its overhead over the whole bound
  EXPECT_EQ(sender_.Send(router_, env, too_big), ReplySender::Result::kDropped);
  EXPECT_EQ(budget_.bytes(), 0);
}

TEST_F(ReplyBudgetTest, SweepForgetsPeersWithNothingQueued) {
  auto a = Peer("a");
  auto b = Peer("b");
  ASSERT_EQ(Send("a"), ReplySender::Result::kSent);
  ASSERT_EQ(Send("b"), ReplySender::Result::kSent);
  EXPECT_EQ(sender_.peers(), 2u);
  EXPECT_EQ(Drain(*a), 1);
  sender_.Sweep();
  EXPECT_EQ(sender_.peers(), 1u);  // b still has its reply queued
  EXPECT_EQ(Drain(*b), 1);
  sender_.Sweep();
  EXPECT_EQ(sender_.peers(), 0u);
  EXPECT_EQ(budget_.bytes(), 0);
}

}  // namespace
}  // namespace banditd::server
