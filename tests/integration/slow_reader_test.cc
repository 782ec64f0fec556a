// Clients that send requests and never read the replies (docs/operations.md,
// "Memory bound for unsent replies"): the daemon's memory stays within the
// configured bound for unsent replies, the replies over it are dropped and
// counted, and a client that reads its replies is served throughout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"
#include "tests/integration/snippets.h"

namespace banditd::itest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kIdBytes = 4000;        // the id of each request, echoed in its reply
constexpr long kBoundBytes = 64L << 20;  // limits.max_unsent_reply_bytes, by default
constexpr long kSlackKib = 100 * 1024;   // the rest of the daemon, allocator slack
constexpr long kMaxGrowthKib = kBoundBytes / 1024 + kSlackKib;
constexpr int kNormalTimeoutMs = 5000;  // generous: the machine is loaded

// A msgpack str of `n` bytes, used as a request id.
std::string LongId(size_t n) {
  std::string id = "\xda";
  id.push_back(static_cast<char>(n >> 8));
  id.push_back(static_cast<char>(n & 0xff));
  id.append(n, 'i');
  return id;
}

// Sends routes as fast as the daemon takes them until `stop`; reads nothing
// (RCVHWM 1: its own queue fills at once and the daemon's backs up).
void SlowReader(zmq::context_t& ctx, const std::string& endpoint, const std::atomic<bool>& stop,
                std::atomic<uint64_t>& sent) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::rcvhwm, 1);
  s.set(zmq::sockopt::sndtimeo, 100);  // so that `stop` is seen under backpressure
  s.set(zmq::sockopt::linger, 0);
  s.connect(endpoint);
  const std::string frame = RouteFrame({"ab", "unit"}, LongId(kIdBytes));
  while (!stop.load(std::memory_order_relaxed)) {
    if (s.send(zmq::buffer(frame), zmq::send_flags::none)) {
      sent.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

// Lock-step routes on `endpoint` until `stop`: each must be answered in time.
void NormalClient(zmq::context_t& ctx, const std::string& endpoint, const std::atomic<bool>& stop,
                  uint64_t& answered, uint64_t& missed) {
  Client c(ctx, endpoint);
  while (!stop.load(std::memory_order_relaxed)) {
    c.Send(RouteFrame({"ab", "normal"}, IdOf(static_cast<uint32_t>(answered + missed))));
    auto reply = c.Recv(kNormalTimeoutMs);
    if (reply && protocol::DecodeRouteReply(*reply).ok()) {
      ++answered;
    } else {
      ++missed;
      break;  // a reply that comes late would be taken for the next one
    }
  }
}

double Metric(const DaemonProcess& d, const std::string& series) {
  auto text = HttpGet(d.endpoints().metrics, "/metrics");
  return text ? MetricValue(*text, series) : -1;
}

// `slow_readers` clients (half on the extra api endpoint) for `attack`.
void RunSlowReaders(int slow_readers, std::chrono::seconds attack) {
  TempDir dir;
  DaemonProcess d;
  ConfigOptions o;
  o.io_threads = 2;  // half the slow readers go to the extra api I/O thread
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), AbRouteOnly("ab", 0.5, 0.5), o), dir.path()));
  ASSERT_EQ(d.endpoints().api_extra.size(), 1u);
  const std::vector<std::string> endpoints = {d.endpoints().api, d.endpoints().api_extra[0]};

  zmq::context_t ctx;
  {
    // Warm-up: allocator arenas, reply buffers.
    Client c(ctx, d.endpoints().api);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(c.Route({"ab", "warm"}).ok());
  }
  const long before = d.RssKib();
  ASSERT_GT(before, 0);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < slow_readers; ++i) {
    threads.emplace_back(SlowReader, std::ref(ctx), std::cref(endpoints[i % 2]), std::cref(stop),
                         std::ref(sent));
  }
  uint64_t answered[2] = {0, 0}, missed[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back(NormalClient, std::ref(ctx), std::cref(endpoints[i]), std::cref(stop),
                         std::ref(answered[i]), std::ref(missed[i]));
  }
  long peak = before;
  const auto start = Clock::now(), end = start + attack;
  while (Clock::now() < end) {
    peak = std::max(peak, d.RssKib());
    // Stop early when over: the unbounded queues would take gigabytes.
    if (peak - before > kMaxGrowthKib) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const long at_end = d.RssKib();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double dropped = Metric(d, "banditd_replies_dropped_total{reason=\"reply_memory\"}");
  stop = true;
  for (auto& t : threads) t.join();

  // The slow readers are gone: libzmq drops their queues and every charge
  // is released (the gauge is published once a second).
  double unsent = -1;
  for (int i = 0; i < 50; ++i) {
    unsent = Metric(d, "banditd_unsent_reply_bytes");
    if (unsent == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const long after_1s = d.RssKib();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const long after_4s = d.RssKib();
  std::printf(
      "[ slow readers ] %d slow readers, %llu requests sent in %.1f s; RSS %ld KiB before, "
      "peak %ld KiB (%+ld), %ld KiB at the end, %ld KiB 1 s and %ld KiB 4 s after they left; "
      "%.0f replies dropped; normal clients answered %llu + %llu\n",
      slow_readers, static_cast<unsigned long long>(sent.load()), seconds, before, peak,
      peak - before, at_end, after_1s, after_4s, dropped,
      static_cast<unsigned long long>(answered[0]), static_cast<unsigned long long>(answered[1]));

  EXPECT_LT(peak - before, kMaxGrowthKib) << "RSS grew past the bound + 100 MB";
  EXPECT_GT(dropped, 0) << "no reply counted as dropped";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(missed[i], 0u) << "a normal client's route went unanswered on " << endpoints[i];
    EXPECT_GT(answered[i], 0u) << endpoints[i];
  }
  EXPECT_EQ(unsent, 0) << "unsent replies still charged after their peers left";
  EXPECT_EQ(Metric(d, "banditd_unsent_reply_max_bytes"), kBoundBytes);
  // Once the slow readers left, memory does not keep growing, and at least
  // half of what it grew by goes back to the OS (malloc_trim after a burst).
  EXPECT_LE(after_4s, std::max(at_end, after_1s) + 10 * 1024);
  EXPECT_LE(after_4s - before, (peak - before) / 2);
  Client c(ctx, d.endpoints().api);
  EXPECT_TRUE(c.Route({"ab", "after"}).ok());
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(SlowReaderTest, UnsentRepliesStayWithinTheBoundAndNormalClientsAreServed) {
  RunSlowReaders(8, std::chrono::seconds(20));
}

// Four stalled connections hold 1/16 of the bound each: just under 16 MiB
// together. Their memory must go back all the same once they leave (it
// stayed until the next snapshot when only bursts over 16 MiB were trimmed).
TEST(SlowReaderTest, FourStalledClientsGiveTheirMemoryBack) {
  RunSlowReaders(4, std::chrono::seconds(6));
}

}  // namespace
}  // namespace banditd::itest
