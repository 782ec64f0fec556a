// Denial-of-service attacks on the /metrics endpoint of the real daemon,
// while a client keeps routing over ZeroMQ: (a) slowloris, (b) a few slow
// and ~1,000 idle TCP connections (descriptor exhaustion), (c) a Range header
// with 2,700 overlapping ranges. Throughout, routes keep working, a new api
// DEALER gets a reply and a snapshot succeeds; /metrics serves again after
// each attack. The daemon starts with a small soft RLIMIT_NOFILE, which it
// must raise itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/client.h"
#include "tests/integration/daemon_process.h"

namespace banditd::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

const std::string kExperiments =
    "  - name: web\n"
    "    arms:\n      - name: a\n        champion: true\n      - name: b\n";

// The soft descriptor limit the daemon inherits: small enough that the
// flood below exhausts it within seconds if the daemon neither raises it nor
// caps its HTTP connections (the kernel's accept backlog paces a flood).
constexpr rlim_t kDaemonSoftFds = 256;
constexpr rlim_t kTestFds = 2048;  // this process: ~1,100 attack connections

// A TCP connection to host:port; -1 on failure, or when the connect took
// longer than `limit` (the server does not accept any more).
int Connect(const std::string& host_port, milliseconds limit = milliseconds(1000)) {
  const auto colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const timeval tv{limit.count() / 1000, (limit.count() % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool Send(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
         static_cast<ssize_t>(s.size());
}

// True when the peer closed `fd` (EOF or reset); never blocks.
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

struct HttpResult {
  int status = 0;
  std::string body;
  bool complete = false;  // the server closed the connection after it
};

// One HTTP/1.0 request with a deadline for the whole exchange; reads at most
// `max_bytes` of response.
HttpResult Fetch(const std::string& host_port, const std::string& request,
                 milliseconds timeout = milliseconds(3000), size_t max_bytes = 64 << 20) {
  HttpResult r;
  const int fd = Connect(host_port);
  if (fd < 0) return r;
  std::string in;
  const auto end = Clock::now() + timeout;
  if (Send(fd, request)) {
    while (Clock::now() < end && in.size() < max_bytes) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        r.complete = n == 0;
        break;
      }
      in.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const auto body = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.", 0) == 0 && in.size() > 12 && body != std::string::npos) {
    r.status = std::stoi(in.substr(9, 3));
    r.body = in.substr(body + 4);
  }
  return r;
}

std::optional<std::string> Metrics(const std::string& host_port) {
  HttpResult r = Fetch(host_port, "GET /metrics HTTP/1.0\r\n\r\n");
  if (!r.complete || r.status != 200) return std::nullopt;
  return r.body;
}

// The soft and hard "Max open files" of a process, from /proc/<pid>/limits.
std::pair<std::string, std::string> OpenFilesLimits(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(14));
      std::string soft, hard;
      fields >> soft >> hard;
      return {soft, hard};
    }
  }
  return {};
}

size_t OpenDescriptors(pid_t pid) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

class HttpAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
    if (saved_.rlim_max != RLIM_INFINITY && saved_.rlim_max < kTestFds) {
      GTEST_SKIP() << "needs a hard RLIMIT_NOFILE of 2048 for the attack's connections";
    }
    // The daemon inherits the small soft limit; this process takes the hard
    // limit back for its attack connections.
    rlimit low = saved_;
    low.rlim_cur = kDaemonSoftFds;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    const bool started = d_.Start(WriteConfig(dir_.path(), kExperiments), dir_.path());
    rlimit high = saved_;
    high.rlim_cur = saved_.rlim_max == RLIM_INFINITY ? kTestFds : saved_.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &high);
    ASSERT_TRUE(started);
    router_ = std::thread([this] { Route(); });
  }

  void TearDown() override {
    stop_ = true;
    if (router_.joinable()) router_.join();
    for (int fd : attack_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

  // The background client: routes one request after another until TearDown.
  void Route() {
    Client api(ctx_, d_.endpoints().api);
    for (uint64_t i = 0; !stop_; ++i) {
      auto r = api.Route(RouteArgs("web", "u" + std::to_string(i % 1000)));
      (r.ok() ? routed_ : failed_)++;
    }
  }

  int Attacker(milliseconds limit = milliseconds(1000)) {
    const int fd = Connect(d_.endpoints().metrics, limit);
    if (fd >= 0) attack_.push_back(fd);
    return fd;
  }

  // `n` non-blocking connects at once, then waits up to `budget` for them
  // to be established (the kernel keeps retrying the others meanwhile).
  void Flood(size_t n, milliseconds budget) {
    const auto colon = d_.endpoints().metrics.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port =
        htons(static_cast<uint16_t>(std::stoi(d_.endpoints().metrics.substr(colon + 1))));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::vector<pollfd> pending;
    for (size_t i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      ASSERT_GE(fd, 0);
      attack_.push_back(fd);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
          errno == EINPROGRESS) {
        pending.push_back({fd, POLLOUT, 0});
      }
    }
    const auto end = Clock::now() + budget;
    while (!pending.empty() && Clock::now() < end) {
      ::poll(pending.data(), pending.size(), 50);
      std::erase_if(pending, [](const pollfd& p) { return p.revents != 0; });
    }
  }

  void CloseAttackers() {
    for (int fd : attack_) ::close(fd);
    attack_.clear();
  }

  // What must hold while an attack runs.
  void ExpectServiceWorks(const std::string& during) {
    SCOPED_TRACE(during);
    const uint64_t before = routed_;
    const auto end = Clock::now() + seconds(5);
    while (routed_ < before + 20 && Clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_GE(routed_, before + 20) << "routes stalled";
    EXPECT_EQ(failed_, 0u);
    Client fresh(ctx_, d_.endpoints().api);  // a new connection: needs a descriptor
    auto r = fresh.Route(RouteArgs("web", "fresh"));
    EXPECT_TRUE(r.ok()) << "new api DEALER: " << r.status().ToString();
    Client admin(ctx_, d_.endpoints().admin);
    const Status s = admin.Admin(wire::Op::kSnapshot);
    EXPECT_TRUE(s.ok()) << "snapshot: " << s.ToString();
  }

  // A fresh, well-behaved scrape succeeds within `within`.
  bool ScrapeSucceeds(milliseconds within) {
    const auto end = Clock::now() + within;
    do {
      if (Metrics(d_.endpoints().metrics)) return true;
      std::this_thread::sleep_for(milliseconds(100));
    } while (Clock::now() < end);
    return false;
  }

  TempDir dir_;
  zmq::context_t ctx_;
  DaemonProcess d_;
  rlimit saved_{};
  std::thread router_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> routed_{0}, failed_{0};
  std::vector<int> attack_;
};

TEST_F(HttpAttackTest, SlowlorisIdleFloodAndRangesDoNotDenyService) {
  // The daemon raised its own soft descriptor limit to the hard limit.
  const auto [soft, hard] = OpenFilesLimits(d_.pid());
  EXPECT_EQ(soft, hard) << "RLIMIT_NOFILE of banditd";
  EXPECT_NE(soft, std::to_string(kDaemonSoftFds));

  // (a) Slowloris: 40 connections, each sending one header byte a second
  // until the server closes it (the request deadline is 5 s by default), for
  // at most 10 s.
  std::vector<int> slow;
  for (int i = 0; i < 40; ++i) {
    const int fd = Attacker();
    if (fd < 0) continue;  // the server stopped accepting: counted below
    Send(fd, "GET /metrics HTTP/1.1\r\nX-a: ");
    slow.push_back(fd);
  }
  EXPECT_EQ(slow.size(), 40u) << "slowloris connections accepted";
  std::vector<bool> closed(slow.size(), false);
  size_t closed_by_server = 0;
  const auto slow_end = Clock::now() + seconds(10);
  for (int second = 0; closed_by_server < slow.size() && Clock::now() < slow_end; ++second) {
    const auto tick = Clock::now() + seconds(1);
    if (second == 1) {
      ExpectServiceWorks("slowloris");
      EXPECT_TRUE(ScrapeSucceeds(milliseconds(3000))) << "a fresh scrape during slowloris";
    }
    for (size_t i = 0; i < slow.size(); ++i) {
      if (closed[i]) continue;
      if (PeerClosed(slow[i])) {
        closed[i] = true;
        ++closed_by_server;
      } else {
        Send(slow[i], "b");
      }
    }
    std::this_thread::sleep_until(tick);
  }
  EXPECT_EQ(closed_by_server, slow.size()) << "slow connections outlived the request deadline";
  CloseAttackers();
  EXPECT_TRUE(ScrapeSucceeds(milliseconds(5000))) << "after slowloris";

  // (b) 8 slow connections, then 1,000 idle ones (waiting at most 5 s for
  // them to be established), held while the service is checked twice:
  // at once and after the server had time to accept whatever it would.
  for (int i = 0; i < 8; ++i) Send(Attacker(), "GET /metr");
  Flood(1000, seconds(5));
  ExpectServiceWorks("8 slow + 1000 idle connections");
  // Connections over the cap are closed at once, the held ones at their
  // request deadline: a fresh scrape gets through, attack still on.
  EXPECT_TRUE(ScrapeSucceeds(milliseconds(8000))) << "a fresh scrape during the flood";
  std::printf("[ flood ] %zu attack connections; banditd holds %zu descriptors\n", attack_.size(),
              OpenDescriptors(d_.pid()));
  ExpectServiceWorks("8 slow + 1000 idle connections, later");
  CloseAttackers();
  EXPECT_TRUE(ScrapeSucceeds(milliseconds(5000))) << "after the flood";

  // (c) One request, 2,700 overlapping ranges: at most one full body (or 416).
  auto normal = Metrics(d_.endpoints().metrics);
  ASSERT_TRUE(normal);
  std::string range = "Range: bytes=0-";
  for (int i = 1; i < 2700; ++i) range += ",0-";
  const long rss_before = d_.RssKib();
  const HttpResult ranged =
      Fetch(d_.endpoints().metrics, "GET /metrics HTTP/1.0\r\n" + range + "\r\n\r\n",
            milliseconds(5000), 16 * normal->size() + (1 << 20));
  const long rss_after = d_.RssKib();
  EXPECT_TRUE(ranged.status == 200 || ranged.status == 416) << ranged.status;
  EXPECT_LE(ranged.body.size(), 2 * normal->size()) << "normal body: " << normal->size();
  if (ranged.status == 200) {
    EXPECT_TRUE(ranged.complete);
    EXPECT_EQ(ranged.body.rfind("# HELP banditd_process_resident_memory_bytes "), 0u);
    EXPECT_EQ(ranged.body.find("# HELP banditd_process_resident_memory_bytes ", 1),
              std::string::npos)
        << "more than one copy of the body";
  }
  EXPECT_LT(rss_after - rss_before, 32 * 1024)
      << "RSS grew by " << rss_after - rss_before << " KiB";
  ExpectServiceWorks("after the Range request");

  // After the attacks: /metrics answers, and counted what it refused.
  auto text = Metrics(d_.endpoints().metrics);
  ASSERT_TRUE(text);
  const auto wait_end = Clock::now() + seconds(3);  // published once a second
  while (MetricValue(*text, "banditd_http_connections_refused_total{reason=\"limit\"}") < 500 &&
         Clock::now() < wait_end) {
    std::this_thread::sleep_for(milliseconds(200));
    text = Metrics(d_.endpoints().metrics).value_or("");
  }
  EXPECT_GE(MetricValue(*text, "banditd_http_connections_refused_total{reason=\"limit\"}"), 500);
  // The slowloris connections (the flood's may have been closed by the
  // attacker before their deadline).
  EXPECT_GE(MetricValue(*text, "banditd_http_connections_timed_out_total{phase=\"request\"}"), 40);
  EXPECT_EQ(MetricValue(*text, "banditd_http_max_connections"), 64);
  stop_ = true;
  router_.join();
  EXPECT_EQ(failed_, 0u);
  EXPECT_EQ(d_.Stop(), 0) << d_.LogTail();
}

TEST(MetricsEndpointConfigTest, ConfiguredCapAndDeadlineApply) {
  TempDir dir;
  DaemonProcess d;
  ConfigOptions o;
  o.extra_yaml =
      "limits:\n  http_max_connections: 3\n  http_request_timeout_ms: 300\n"
      "  http_idle_timeout_ms: 300\n  http_write_timeout_ms: 1000\n"
      "  http_max_request_bytes: 2048\n";
  ASSERT_TRUE(d.Start(WriteConfig(dir.path(), kExperiments, o), dir.path()));
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(Connect(d.endpoints().metrics));
  // The fourth is over the cap and closed at once; the three others at
  // their request deadline.
  for (int fd : held) {
    ASSERT_GE(fd, 0);
    const auto end = Clock::now() + seconds(10);
    while (!PeerClosed(fd) && Clock::now() < end) std::this_thread::sleep_for(milliseconds(10));
    EXPECT_TRUE(PeerClosed(fd));
    ::close(fd);
  }
  const std::string big = "GET /metrics HTTP/1.0\r\nX: " + std::string(3000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Fetch(d.endpoints().metrics, big).status, 431);
  EXPECT_EQ(Fetch(d.endpoints().metrics, "POST /metrics HTTP/1.0\r\n\r\n").status, 405);
  EXPECT_EQ(Fetch(d.endpoints().metrics, "GET /nope HTTP/1.0\r\n\r\n").status, 404);
  std::optional<std::string> text;
  const auto end = Clock::now() + seconds(5);
  do {
    std::this_thread::sleep_for(milliseconds(100));
    text = Metrics(d.endpoints().metrics);
  } while (
      (!text ||
       MetricValue(*text, "banditd_http_connections_timed_out_total{phase=\"request\"}") < 3) &&
      Clock::now() < end);
  ASSERT_TRUE(text);
  EXPECT_EQ(MetricValue(*text, "banditd_http_max_connections"), 3);
  EXPECT_EQ(MetricValue(*text, "banditd_http_connections_refused_total{reason=\"limit\"}"), 1);
  EXPECT_EQ(MetricValue(*text, "banditd_http_connections_timed_out_total{phase=\"request\"}"), 3);
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

TEST(MetricsEndpointConfigTest, EmptyMetricsAddressTurnsTheEndpointOff) {
  TempDir dir;
  const std::string path = WriteConfig(dir.path(), kExperiments);
  std::string yaml;
  {
    std::ifstream in(path);
    yaml.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string metrics_line = "  metrics: 127.0.0.1:0\n";
  const auto at = yaml.find(metrics_line);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.replace(at, metrics_line.size(), "  metrics: \"\"\n");
  std::ofstream(path) << yaml;
  DaemonProcess d;
  ASSERT_TRUE(d.Start(path, dir.path()));
  EXPECT_EQ(d.endpoints().metrics, "");
  zmq::context_t ctx;
  Client api(ctx, d.endpoints().api);
  EXPECT_TRUE(api.Route(RouteArgs("web", "u")).ok());
  EXPECT_EQ(d.Stop(), 0) << d.LogTail();
}

}  // namespace
}  // namespace banditd::itest
