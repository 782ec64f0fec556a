#include "src/telemetry/http_request.h"

#include <string>

#include <gtest/gtest.h>

namespace banditd::telemetry {
namespace {

ParseResult Parse(const std::string& s, size_t max = 8192) { return ParseHttpRequest(s, max); }

TEST(HttpRequestTest, ParsesGetWithQueryAndKeepAliveDefaults) {
  const std::string s = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /next";
  const ParseResult r = Parse(s);
  ASSERT_EQ(r.outcome, ParseOutcome::kRequest);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/metrics");
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_EQ(s.substr(r.request.consumed), "GET /next");

  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nconnection: close\r\n\r\n").request.keep_alive);
  EXPECT_EQ(Parse("HEAD /healthz HTTP/1.1\n\n").outcome, ParseOutcome::kRequest);  // bare LF
}

TEST(HttpRequestTest, IncompleteUntilTheBlankLine) {
  EXPECT_EQ(Parse("").outcome, ParseOutcome::kIncomplete);
  EXPECT_EQ(Parse("GET /metrics HTTP/1.1\r\nHost: a\r\n").outcome, ParseOutcome::kIncomplete);
}

TEST(HttpRequestTest, RangeIsIgnored) {
  std::string s = "GET /metrics HTTP/1.1\r\nRange: bytes=0-";
  for (int i = 0; i < 200; ++i) s += ",0-";
  s += "\r\n\r\n";
  const ParseResult r = Parse(s);
  ASSERT_EQ(r.outcome, ParseOutcome::kRequest);
  EXPECT_EQ(r.request.consumed, s.size());
}

TEST(HttpRequestTest, SizeLimitIsOnRequestLinePlusHeaders) {
  const std::string head = "GET /metrics HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(Parse(head, head.size()).outcome, ParseOutcome::kRequest);
  const ParseResult big = Parse(head, head.size() - 1);
  EXPECT_EQ(big.outcome, ParseOutcome::kError);
  EXPECT_EQ(big.status, 431);
  // No end of headers within the limit: refused without waiting for more.
  EXPECT_EQ(Parse("GET /" + std::string(100, 'a'), 64).status, 431);
}

TEST(HttpRequestTest, ErrorsHaveTheirStatus) {
  struct Case {
    std::string request;
    int status;
  } cases[] = {
      {"\r\n\r\n", 400},
      {"GET\r\n\r\n", 400},
      {"GET /metrics\r\n\r\n", 400},
      {"GET  /metrics HTTP/1.1\r\n\r\n", 400},
      {"get /metrics HTTP/1.1\r\n\r\n", 400},
      {"GET metrics HTTP/1.1\r\n\r\n", 400},
      {"GET /metrics FTP/1.1\r\n\r\n", 400},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505},
      {"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413},
      {"POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413},
  };
  for (const Case& c : cases) {
    const ParseResult r = Parse(c.request);
    EXPECT_EQ(r.outcome, ParseOutcome::kError) << c.request;
    EXPECT_EQ(r.status, c.status) << c.request;
  }
  EXPECT_EQ(Parse("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").outcome,
            ParseOutcome::kRequest);
}

}  // namespace
}  // namespace banditd::telemetry
