#include "src/telemetry/prometheus.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include "src/telemetry/metrics_server.h"

namespace banditd::telemetry {
namespace {

TEST(PrometheusTest, FamiliesSamplesAndEscaping) {
  PrometheusText t;
  t.Family("banditd_requests_total", "counter", "Route requests.");
  t.Sample("banditd_requests_total", {{"experiment", "ctr"}, {"arm", "a\"b\\c\nd"}}, 42);
  t.Sample("banditd_up", {}, 1);
  EXPECT_EQ(t.text(),
            "# HELP banditd_requests_total Route requests.\n"
            "# TYPE banditd_requests_total counter\n"
            "banditd_requests_total{experiment=\"ctr\",arm=\"a\\\"b\\\\c\\nd\"} 42\n"
            "banditd_up 1\n");
}

TEST(PrometheusTest, HistogramBucketsAreCumulative) {
  LatencyHistogram h;
  h.Record(500'000);     // 0.5 ms
  h.Record(2'000'000);   // 2 ms
  h.Record(50'000'000);  // 50 ms
  PrometheusText t;
  t.Histogram("lat_seconds", {{"arm", "x"}}, h, {0.001, 0.01, 0.1});
  const std::string& s = t.text();
  EXPECT_NE(s.find("lat_seconds_bucket{arm=\"x\",le=\"0.001\"} 1\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_bucket{arm=\"x\",le=\"0.01\"} 2\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_bucket{arm=\"x\",le=\"0.1\"} 3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_bucket{arm=\"x\",le=\"+Inf\"} 3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_count{arm=\"x\"} 3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("lat_seconds_sum{arm=\"x\"} 0.0525\n"), std::string::npos) << s;
}

TEST(MetricsServerTest, ServesThePublishedText) {
  MetricsServer server;
  ASSERT_TRUE(server.Start("127.0.0.1", 0).ok());
  ASSERT_GT(server.port(), 0);
  server.Publish("banditd_up 1\n");
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "banditd_up 1\n");
  server.Publish("banditd_up 0\n");
  EXPECT_EQ(client.Get("/metrics")->body, "banditd_up 0\n");
  EXPECT_EQ(client.Get("/healthz")->body, "ok\n");
  server.Stop();
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  const ProcessStats s = ReadProcessStats();
  EXPECT_GT(s.rss_bytes, 1e5);
  EXPECT_GE(s.threads, 1.0);
  EXPECT_GE(s.uptime_s, 0.0);
  EXPECT_LT(s.uptime_s, 3600.0);  // this test process started moments ago
}

}  // namespace
}  // namespace banditd::telemetry
