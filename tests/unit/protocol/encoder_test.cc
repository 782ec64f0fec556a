// Reply encoders: exact bytes for the examples of docs/protocol.md, and
// round trips through the client-side reply decoders.
#include "src/protocol/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "src/protocol/json.h"
#include "src/protocol/reply_decoder.h"
#include "tests/unit/protocol/frames.h"

namespace banditd::protocol {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(EncoderTest, RouteReplyBytesMatchTheDocumentedExample) {
  wire::RouteReply reply;
  const std::string id = Hex("07");
  reply.id = id;
  reply.decision = "d1";
  reply.arm = "champion";
  reply.p = 0.5;
  reply.epoch = 3;
  std::string out;
  EncodeRouteReply(reply, &out);
  // {"ok": true, "id": 7, "decision": "d1", "arm": "champion", "p": 0.5, "epoch": 3}
  EXPECT_EQ(ToHex(out),
            "86 a2 6f 6b c3 a2 69 64 07 a8 64 65 63 69 73 69 6f 6e a2 64 31 a3 61 72 6d a8 63 "
            "68 61 6d 70 69 6f 6e a1 70 cb 3f e0 00 00 00 00 00 00 a5 65 70 6f 63 68 03");
}

TEST(EncoderTest, RouteReplyWithOutputMatchesTheDocumentedExample) {
  const float output[1] = {0.25f};
  wire::RouteReply reply;
  const std::string id = Hex("01");
  reply.id = id;
  reply.decision = "0000000100000a2f";
  reply.arm = "challenger";
  reply.p = 0.5;
  reply.epoch = 3;
  reply.output = std::span<const float>(output);
  std::string out;
  EncodeRouteReply(reply, &out);
  EXPECT_EQ(ToHex(out),
            "87 a2 6f 6b c3 a2 69 64 01 a8 64 65 63 69 73 69 6f 6e b0 30 30 30 30 30 30 30 31 30 "
            "30 30 30 30 61 32 66 a3 61 72 6d aa 63 68 61 6c 6c 65 6e 67 65 72 a1 70 cb 3f e0 00 "
            "00 00 00 00 00 a5 65 70 6f 63 68 03 a6 6f 75 74 70 75 74 91 ca 3e 80 00 00");
}

TEST(EncoderTest, RouteReplyRoundTripsWithOutputAndServedBy) {
  const std::vector<float> output = {0.25f, 0.75f};
  wire::RouteReply reply;
  const std::string id = Hex("a3 61 62 63");  // "abc"
  reply.id = id;
  reply.decision = "0123abcd";
  reply.arm = "challenger";
  reply.p = 0.125;
  reply.epoch = 9;
  reply.output = std::span<const float>(output);
  reply.served_by = "champion";
  std::string out;
  EncodeRouteReply(reply, &out);
  auto got = DecodeRouteReply(out);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->decision, "0123abcd");
  EXPECT_EQ(got->arm, "challenger");
  EXPECT_EQ(got->p, 0.125);
  EXPECT_EQ(got->epoch, 9u);
  EXPECT_EQ(got->output, output);
  EXPECT_EQ(got->served_by, "champion");
}

TEST(EncoderTest, ErrorReplyCarriesCodeMessageAndId) {
  std::string out;
  EncodeErrorReply({Hex("07"), Code::kUnknownExperiment, "no experiment 'x'"}, &out);
  auto got = DecodeRouteReply(out);
  EXPECT_EQ(got.status().code(), Code::kUnknownExperiment);
  EXPECT_EQ(got.status().message(), "no experiment 'x'");
  EncodeErrorReply({"", Code::kBadRequest, "empty frame"}, &out);
  // {"ok": false, "error": {"code": "bad_request", "message": "empty frame"}}
  EXPECT_EQ(ToHex(out),
            "82 a2 6f 6b c2 a5 65 72 72 6f 72 82 a4 63 6f 64 65 ab 62 61 64 5f 72 65 71 75 65 "
            "73 74 a7 6d 65 73 73 61 67 65 ab 65 6d 70 74 79 20 66 72 61 6d 65");
  EXPECT_EQ(DecodeOkReply(out).code(), Code::kBadRequest);
}

TEST(EncoderTest, OkAndRewardsRepliesRoundTrip) {
  std::string out;
  EncodeOkReply("", &out);
  EXPECT_EQ(ToHex(out), "81 a2 6f 6b c3");
  EXPECT_TRUE(DecodeOkReply(out).ok());

  const std::vector<wire::Rejection> rejected = {{"d9", Code::kDuplicateReward},
                                                 {"zz", Code::kUnknownDecision}};
  EncodeRewardsReply({Hex("01"), 5, rejected}, &out);
  auto got = DecodeRewardsReply(out);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, Hex("01"));
  EXPECT_EQ(got->accepted, 5u);
  ASSERT_EQ(got->rejected.size(), 2u);
  EXPECT_EQ(got->rejected[0], (std::pair<std::string, Code>("d9", Code::kDuplicateReward)));
  EXPECT_EQ(got->rejected[1], (std::pair<std::string, Code>("zz", Code::kUnknownDecision)));
}

wire::ExperimentReport SampleReport() {
  wire::ExperimentReport r;
  r.name = "ctr";
  r.mode = "bandit";
  r.policy = "thompson";
  r.epoch = 2;
  r.state = ExperimentState::kDecided;
  r.winner = "challenger";
  r.reason = "sequential test: p < 0.05 after 4210 rewards";
  wire::ArmReport a;
  a.name = "champion";
  a.n = 2000;
  a.reward_sum = 100;
  a.mean = 0.05;
  a.ci95 = {0.04, 0.06};
  a.allocation = 0.5;
  a.p_best = 0.01;
  a.model_p99_ms = 0.8;
  a.errors = 1;
  r.arms.push_back(a);
  a.name = "challenger";
  a.mean = NAN;  // undefined: travels as nil, comes back NaN
  a.model_p99_ms = NAN;
  r.arms.push_back(a);
  wire::TestReport t;
  t.method = "sequential";
  t.rule_p_value = 0.01;
  t.p_kind = "always-valid p (sequential, mSPRT)";
  t.always_valid = true;
  t.looks = 42;
  t.stop = true;
  t.compared_arm = "challenger";
  t.difference_kind = "mean difference";
  t.difference = 0.004;
  t.ci = {0.001, INFINITY};  // an unbounded side travels as nil
  t.lift = -0.435;
  r.test = t;
  r.srm_p_value = 0.7;
  wire::SrmReport srm;
  srm.p_value = 0.7;
  srm.chi2 = 0.15;
  srm.df = 2;
  srm.periods = 3;
  srm.requests = 12000;
  srm.alarm = true;
  srm.alarm_p = 1e-9;
  srm.alarms = 2;
  srm.acknowledged = 1;
  srm.threshold = 0.001;
  r.srm = srm;
  return r;
}

TEST(EncoderTest, StatusReportRoundTrips) {
  std::vector<wire::ExperimentReport> reports = {SampleReport(), SampleReport()};
  reports[1].name = "other";
  reports[1].winner.reset();
  reports[1].test.reset();
  reports[1].state = ExperimentState::kRolledBack;
  reports[1].context_store = wire::ContextStoreReport{12, 1536, 1 << 20, 3, 2};
  std::string out;
  EncodeStatusReply({"", reports, wire::ProcessReport{1.5e8, 12.25, 3600}}, &out);
  auto got = DecodeStatusReply(out);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->experiments.size(), 2u);
  ASSERT_TRUE(got->process.has_value());
  EXPECT_EQ(got->process->rss_bytes, 1.5e8);
  EXPECT_EQ(got->process->cpu_seconds, 12.25);
  EXPECT_EQ(got->process->uptime_s, 3600);
  EncodeStatusReply({"", reports, std::nullopt}, &out);  // `process` is optional
  EXPECT_FALSE(DecodeStatusReply(out)->process.has_value());
  EncodeStatusReply({"", reports, wire::ProcessReport{1.5e8, 12.25, 3600}}, &out);
  const auto& r = got->experiments[0];
  EXPECT_EQ(r.name, "ctr");
  EXPECT_EQ(r.mode, "bandit");
  EXPECT_EQ(r.policy, "thompson");
  EXPECT_EQ(r.epoch, 2u);
  EXPECT_EQ(r.state, ExperimentState::kDecided);
  EXPECT_EQ(r.winner, "challenger");
  EXPECT_EQ(r.reason, reports[0].reason);
  ASSERT_EQ(r.arms.size(), 2u);
  EXPECT_EQ(r.arms[0].name, "champion");
  EXPECT_EQ(r.arms[0].n, 2000u);
  EXPECT_EQ(r.arms[0].reward_sum, 100);
  EXPECT_EQ(r.arms[0].mean, 0.05);
  EXPECT_EQ(r.arms[0].ci95, (std::array<double, 2>{0.04, 0.06}));
  EXPECT_EQ(r.arms[0].allocation, 0.5);
  EXPECT_EQ(r.arms[0].p_best, 0.01);
  EXPECT_EQ(r.arms[0].model_p99_ms, 0.8);
  EXPECT_EQ(r.arms[0].errors, 1u);
  EXPECT_TRUE(std::isnan(r.arms[1].mean));
  EXPECT_TRUE(std::isnan(r.arms[1].model_p99_ms));
  ASSERT_TRUE(r.test.has_value());
  EXPECT_EQ(r.test->method, "sequential");
  EXPECT_EQ(r.test->rule_p_value, 0.01);
  EXPECT_EQ(r.test->p_kind, "always-valid p (sequential, mSPRT)");
  EXPECT_TRUE(r.test->always_valid);
  EXPECT_EQ(r.test->looks, 42u);
  EXPECT_TRUE(r.test->stop);
  EXPECT_EQ(r.test->compared_arm, "challenger");
  EXPECT_EQ(r.test->difference_kind, "mean difference");
  EXPECT_EQ(r.test->difference, 0.004);
  EXPECT_EQ(r.test->ci[0], 0.001);
  EXPECT_TRUE(std::isnan(r.test->ci[1]));
  EXPECT_EQ(r.test->lift, -0.435);
  EXPECT_EQ(r.srm_p_value, 0.7);
  ASSERT_TRUE(r.srm.has_value());
  EXPECT_EQ(r.srm->p_value, 0.7);
  EXPECT_EQ(r.srm->chi2, 0.15);
  EXPECT_EQ(r.srm->df, 2);
  EXPECT_EQ(r.srm->periods, 3u);
  EXPECT_EQ(r.srm->requests, 12000u);
  EXPECT_TRUE(r.srm->alarm);
  EXPECT_EQ(r.srm->alarm_p, 1e-9);
  EXPECT_EQ(r.srm->alarms, 2u);
  EXPECT_EQ(r.srm->acknowledged, 1u);
  EXPECT_EQ(r.srm->threshold, 0.001);
  EXPECT_EQ(got->experiments[1].name, "other");
  EXPECT_EQ(got->experiments[1].state, ExperimentState::kRolledBack);
  EXPECT_FALSE(got->experiments[1].winner.has_value());
  EXPECT_FALSE(got->experiments[1].test.has_value());
  EXPECT_FALSE(r.context_store.has_value());
  ASSERT_TRUE(got->experiments[1].context_store.has_value());
  const auto& cs = *got->experiments[1].context_store;
  EXPECT_EQ(cs.entries, 12u);
  EXPECT_EQ(cs.bytes, 1536u);
  EXPECT_EQ(cs.max_bytes, 1u << 20);
  EXPECT_EQ(cs.evictions, 3u);
  EXPECT_EQ(cs.rewards_without_context, 2u);
}

// Clients of earlier releases read test.p_value, always_valid_p and
// lift_ci95: they are still sent, derived from the rule's own figures.
TEST(EncoderTest, StatusKeepsTheKeysOfEarlierReleases) {
  std::vector<wire::ExperimentReport> reports = {SampleReport()};
  std::string out;
  EncodeStatusReply({"", reports, std::nullopt}, &out);
  auto json = MsgpackToJson(out);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"p_value\":0.01"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"always_valid_p\":0.01"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"lift_ci95\":[null,null]"), std::string::npos) << *json;
  reports[0].test->always_valid = false;  // e.g. fixed_horizon: no always-valid p
  EncodeStatusReply({"", reports, std::nullopt}, &out);
  json = MsgpackToJson(out);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"always_valid_p\":null"), std::string::npos) << *json;
}

TEST(EncoderTest, CodeNamesRoundTrip) {
  for (int c = static_cast<int>(Code::kBadRequest); c <= static_cast<int>(Code::kInternal); ++c) {
    EXPECT_EQ(CodeFromName(CodeName(static_cast<Code>(c))), static_cast<Code>(c));
  }
  EXPECT_FALSE(CodeFromName("no_such_code").has_value());
}

TEST(EncoderTest, UnreadableRepliesAreBadRequest) {
  EXPECT_EQ(DecodeOkReply(Hex("dd ff 00 00 00")).code(), Code::kBadRequest);
  EXPECT_EQ(DecodeOkReply(Hex("81 a2 6f 6b 01")).code(), Code::kBadRequest);  // ok: 1
  EXPECT_EQ(DecodeRouteReply(Hex("81 a2 6f 6b c3")).status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace banditd::protocol
