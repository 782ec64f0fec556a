// MetricsServer over real loopback sockets, with short configured deadlines.
#include "src/telemetry/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "src/telemetry/prometheus.h"

namespace banditd::telemetry {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Upper bound for waits that must end well before it (guards against hangs).
constexpr milliseconds kPatience{10000};

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads for up to `timeout`; true when the peer closed (EOF or reset) by then.
bool ReadUntilClosed(int fd, milliseconds timeout, std::string* data = nullptr) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    if (data != nullptr) data->append(buf, static_cast<size_t>(n));
  }
  return false;
}

struct Response {
  int status = 0;
  std::string head;
  std::string body;
};

// One response: status line, headers and Content-Length bytes of body
// (none for HEAD).
std::optional<Response> ReadResponse(int fd, bool head_only = false) {
  std::string in;
  const auto end = Clock::now() + kPatience;
  size_t body_at = std::string::npos, length = 0;
  while (Clock::now() < end) {
    if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
      body_at += 4;
      const auto cl = in.find("Content-Length: ");
      if (cl == std::string::npos || cl > body_at) return std::nullopt;
      length = head_only ? 0 : std::stoul(in.substr(cl + 16));
    }
    if (body_at != std::string::npos && in.size() >= body_at + length) {
      Response r;
      r.status = std::stoi(in.substr(9, 3));
      r.head = in.substr(0, body_at);
      r.body = in.substr(body_at, length);
      return r;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return std::nullopt;
    in.append(buf, static_cast<size_t>(n));
  }
  return std::nullopt;
}

bool WaitFor(const std::function<bool()>& done) {
  const auto end = Clock::now() + kPatience;
  while (!done()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

uint64_t Get(const std::atomic<uint64_t>& a) { return a.load(); }

class MetricsServerLimitsTest : public ::testing::Test {
 protected:
  void Start(const HttpLimits& limits) {
    ASSERT_TRUE(server_.Start("127.0.0.1", 0, limits).ok());
    server_.Publish("banditd_up 1\n");
  }
  ~MetricsServerLimitsTest() override {
    for (int fd : fds_) ::close(fd);
  }
  int Open() {
    fds_.push_back(Connect(server_.port()));
    return fds_.back();
  }
  MetricsServer server_;
  std::vector<int> fds_;
};

TEST_F(MetricsServerLimitsTest, MethodsPathsAndHeadOnOneConnection) {
  Start({});
  const int fd = Open();
  ASSERT_TRUE(SendAll(fd, "HEAD /metrics HTTP/1.1\r\n\r\n"));
  auto r = ReadResponse(fd, /*head_only=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->head.find("Content-Length: 13\r\n"), std::string::npos) << r->head;
  ASSERT_TRUE(SendAll(fd, "POST /metrics HTTP/1.1\r\n\r\n"));
  r = ReadResponse(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->head.find("Allow: GET, HEAD\r\n"), std::string::npos) << r->head;
  ASSERT_TRUE(SendAll(fd, "GET /other HTTP/1.1\r\n\r\n"));
  r = ReadResponse(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"));
  r = ReadResponse(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "banditd_up 1\n");
  r = ReadResponse(fd);  // the pipelined second request
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok\n");
  EXPECT_EQ(Get(server_.stats().responses_ok), 3u);
  EXPECT_EQ(Get(server_.stats().responses_error), 2u);
}

TEST_F(MetricsServerLimitsTest, RangeIsIgnoredTheFullBodyOnce) {
  HttpLimits limits;
  limits.max_request_bytes = 64 << 10;
  Start(limits);
  std::string range = "Range: bytes=0-";
  for (int i = 1; i < 2700; ++i) range += ",0-";
  const int fd = Open();
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.0\r\n" + range + "\r\n\r\n"));
  std::string data;
  ASSERT_TRUE(ReadUntilClosed(fd, kPatience, &data));
  EXPECT_EQ(data.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << data.substr(0, 200);
  EXPECT_NE(data.find("Accept-Ranges: none\r\n"), std::string::npos);
  EXPECT_EQ(data.find("Content-Range"), std::string::npos);
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), "banditd_up 1\n");
}

TEST_F(MetricsServerLimitsTest, ConnectionsBeyondTheCapAreClosedAtOnce) {
  HttpLimits limits;
  limits.max_connections = 2;
  limits.request_timeout = milliseconds(60000);
  Start(limits);
  const int a = Open();
  Open();
  ASSERT_TRUE(WaitFor([&] { return Get(server_.stats().open) == 2; }));
  const int extra = Open();
  EXPECT_TRUE(ReadUntilClosed(extra, kPatience));
  EXPECT_EQ(Get(server_.stats().refused_limit), 1u);
  ::shutdown(a, SHUT_WR);  // a slot frees up when a client leaves
  ASSERT_TRUE(WaitFor([&] { return Get(server_.stats().open) == 1; }));
  const int fresh = Open();
  ASSERT_TRUE(SendAll(fresh, "GET /metrics HTTP/1.1\r\n\r\n"));
  const auto r = ReadResponse(fresh);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "banditd_up 1\n");

  PrometheusText t;
  server_.AppendMetrics(&t);
  EXPECT_NE(t.text().find("banditd_http_connections_refused_total{reason=\"limit\"} 1\n"),
            std::string::npos)
      << t.text();
  EXPECT_NE(t.text().find("banditd_http_max_connections 2\n"), std::string::npos);
}

TEST_F(MetricsServerLimitsTest, TrickledRequestIsClosedAtItsDeadline) {
  HttpLimits limits;
  limits.request_timeout = milliseconds(300);
  Start(limits);
  const int fd = Open();
  // One byte every 20 ms never completes the headers; each byte would reset
  // a per-read timeout, but the request's deadline is absolute.
  const std::string trickle = "GET /metrics HTTP/1.1\r\nX-Slow: " + std::string(4000, 'a');
  bool closed = false;
  const auto end = Clock::now() + kPatience;
  for (size_t i = 0; !closed && Clock::now() < end && i < trickle.size(); ++i) {
    if (!SendAll(fd, trickle.substr(i, 1))) break;
    closed = ReadUntilClosed(fd, milliseconds(20));
  }
  EXPECT_TRUE(closed || ReadUntilClosed(fd, kPatience));
  EXPECT_EQ(Get(server_.stats().timed_out_request), 1u);
}

TEST_F(MetricsServerLimitsTest, SlowClientsDoNotBlockOthers) {
  HttpLimits limits;
  limits.request_timeout = milliseconds(60000);
  Start(limits);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(SendAll(Open(), "GET /metr"));
  const int fd = Open();
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\n\r\n"));
  const auto r = ReadResponse(fd);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "banditd_up 1\n");
  EXPECT_EQ(Get(server_.stats().open), 21u);  // the slow ones are still waited for
}

TEST_F(MetricsServerLimitsTest, IdleKeepAliveConnectionIsClosed) {
  HttpLimits limits;
  limits.idle_timeout = milliseconds(200);
  Start(limits);
  const int fd = Open();
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(ReadResponse(fd));
  EXPECT_TRUE(ReadUntilClosed(fd, kPatience));
  EXPECT_EQ(Get(server_.stats().timed_out_idle), 1u);
  EXPECT_EQ(Get(server_.stats().timed_out_request), 0u);
}

TEST_F(MetricsServerLimitsTest, UnreadResponseIsDroppedAtTheWriteDeadline) {
  HttpLimits limits;
  limits.write_timeout = milliseconds(300);
  Start(limits);
  server_.Publish(std::string(32 << 20, 'x'));  // far more than the socket buffers hold
  const int fd = Open();
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(WaitFor([&] { return Get(server_.stats().timed_out_write) == 1; }));
  EXPECT_EQ(Get(server_.stats().open), 0u);
}

TEST_F(MetricsServerLimitsTest, OversizeOrBodyRequestsAreRefusedAndClosed) {
  HttpLimits limits;
  limits.max_request_bytes = 1024;
  Start(limits);
  int fd = Open();
  // Far more than the server reads: the unread rest must not reset the answer.
  ASSERT_TRUE(SendAll(fd, "GET /metrics HTTP/1.1\r\nX: " + std::string(100'000, 'a')));
  std::string data;
  EXPECT_TRUE(ReadUntilClosed(fd, kPatience, &data));
  EXPECT_EQ(data.rfind("HTTP/1.1 431 ", 0), 0u) << data;
  fd = Open();
  data.clear();
  ASSERT_TRUE(SendAll(fd, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_TRUE(ReadUntilClosed(fd, kPatience, &data));
  EXPECT_EQ(data.rfind("HTTP/1.1 413 ", 0), 0u) << data;
}

TEST(MetricsServerStartTest, BindFailureIsAnError) {
  MetricsServer a;
  ASSERT_TRUE(a.Start("127.0.0.1", 0).ok());
  MetricsServer b;
  const Status s = b.Start("127.0.0.1", a.port());
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_NE(s.message().find("cannot bind"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace banditd::telemetry
