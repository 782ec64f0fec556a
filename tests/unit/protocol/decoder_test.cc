// Round trips: EncodeRequest -> Decoder::Decode gives back every field, and
// the documented examples of docs/protocol.md decode as documented.
#include "src/protocol/decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "src/protocol/encoder.h"
#include "tests/unit/protocol/frames.h"

namespace banditd::protocol {
namespace {

using testing::FrameBuilder;
using testing::Hex;

wire::Request MustDecode(Decoder& d, std::string_view frame) {
  wire::Request r;
  Status s = d.Decode(frame, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

TEST(DecoderTest, RouteWithNumbersRoundTrips) {
  const std::vector<float> input = {0.5f, -1.25f, 3.0f, 0.0f};
  const std::vector<double> context = {1.0, -2.5};
  wire::Request req;
  req.op = wire::Op::kRoute;
  const std::string id = Hex("cd 30 39");  // uint16 12345
  req.id = id;
  auto& route = req.body.emplace<wire::RouteRequest>();
  route.exp = "ctr";
  route.unit = "user-42";
  route.input.form = wire::InputView::Form::kNumbers;
  route.input.numbers = input;
  route.context = std::span<const double>(context);
  route.arm = "challenger";
  std::string frame;
  EncodeRequest(req, &frame);

  Decoder d;
  wire::Request got = MustDecode(d, frame);
  ASSERT_EQ(got.op, wire::Op::kRoute);
  EXPECT_EQ(got.id, id);
  const auto* r = got.route();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->exp, "ctr");
  EXPECT_EQ(r->unit, "user-42");
  EXPECT_EQ(r->arm, "challenger");
  ASSERT_EQ(r->input.form, wire::InputView::Form::kNumbers);
  ASSERT_EQ(r->input.rank, 1u);
  EXPECT_EQ(r->input.shape[0], 4);
  std::vector<float> copy(r->input.num_elements());
  r->input.CopyTo(copy);
  EXPECT_EQ(copy, input);
  ASSERT_TRUE(r->context.has_value());
  EXPECT_EQ(std::vector<double>(r->context->begin(), r->context->end()), context);
  // Views point into the frame: nothing was copied.
  EXPECT_GE(r->exp.data(), frame.data());
  EXPECT_LT(r->exp.data(), frame.data() + frame.size());
}

TEST(DecoderTest, RouteWithTensorRoundTrips) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  wire::Request req;
  auto& route = req.body.emplace<wire::RouteRequest>();
  route.exp = "img";
  route.input.form = wire::InputView::Form::kTensor;
  route.input.rank = 2;
  route.input.shape[0] = 2;
  route.input.shape[1] = 3;
  route.input.tensor_bytes = bytes;
  std::string frame;
  EncodeRequest(req, &frame);

  Decoder d;
  wire::Request got = MustDecode(d, frame);
  const auto* r = got.route();
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(got.id.empty());
  EXPECT_FALSE(r->unit.has_value());
  EXPECT_FALSE(r->context.has_value());
  EXPECT_FALSE(r->arm.has_value());
  ASSERT_EQ(r->input.form, wire::InputView::Form::kTensor);
  EXPECT_EQ(std::vector<int64_t>(r->input.dims().begin(), r->input.dims().end()),
            (std::vector<int64_t>{2, 3}));
  std::vector<float> copy(r->input.num_elements());
  r->input.CopyTo(copy);
  EXPECT_EQ(copy, values);
}

TEST(DecoderTest, RouteOnlyRequestHasNoInput) {
  Decoder d;
  // The docs/protocol.md example {"op": "route", "exp": "ctr", "unit": "u1"}.
  const std::string frame =
      Hex("83 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 a3 63 74 72 a4 75 6e 69 74 a2 75 31");
  wire::Request got = MustDecode(d, frame);
  ASSERT_NE(got.route(), nullptr);
  EXPECT_EQ(got.route()->exp, "ctr");
  EXPECT_EQ(got.route()->unit, "u1");
  EXPECT_FALSE(got.route()->input.present());
}

TEST(DecoderTest, RewardRoundTripsWithAndWithoutAt) {
  Decoder d;
  for (std::optional<double> at : {std::optional<double>(), std::optional<double>(1.7e9)}) {
    wire::Request req;
    req.op = wire::Op::kReward;
    auto& w = req.body.emplace<wire::RewardRequest>();
    w.decision = "d-1";
    w.value = 1;
    w.at = at;
    std::string frame;
    EncodeRequest(req, &frame);
    wire::Request got = MustDecode(d, frame);
    ASSERT_EQ(got.op, wire::Op::kReward);
    ASSERT_NE(got.reward(), nullptr);
    EXPECT_EQ(got.reward()->decision, "d-1");
    EXPECT_EQ(got.reward()->value, 1.0);
    EXPECT_EQ(got.reward()->at, at);
  }
}

TEST(DecoderTest, IntegerRewardValuesAreAccepted) {
  Decoder d;
  FrameBuilder f;
  f.Map(3).Str("op").Str("reward").Str("decision").Str("x").Str("value").Int(-3);
  wire::Request got = MustDecode(d, f.bytes());
  EXPECT_EQ(got.reward()->value, -3.0);
}

TEST(DecoderTest, RewardsKeepsNonFiniteItemsAsRejected) {
  Decoder d;
  FrameBuilder f;
  f.Map(2).Str("op").Str("rewards").Str("items").Array(3);
  f.Array(2).Str("a").Double(1);
  f.Array(2).Str("b").Double(NAN);
  f.Array(2).Str("c").Int(0);
  wire::Request got = MustDecode(d, f.bytes());
  ASSERT_NE(got.rewards(), nullptr);
  const auto items = got.rewards()->items;
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].decision, "a");
  EXPECT_EQ(items[0].code, Code::kOk);
  EXPECT_EQ(items[1].decision, "b");
  EXPECT_EQ(items[1].code, Code::kInvalidValue);
  EXPECT_EQ(items[2].value, 0.0);
  EXPECT_EQ(items[2].code, Code::kOk);
}

TEST(DecoderTest, StatusAndAdminOpsRoundTrip) {
  Decoder d;
  struct Case {
    wire::Op op;
    std::string_view exp, arm;
  };
  for (const Case& c : {Case{wire::Op::kPromote, "ctr", "challenger"},
                        Case{wire::Op::kPause, "ctr", ""}, Case{wire::Op::kResume, "ctr", ""},
                        Case{wire::Op::kReload, "ctr", ""}, Case{wire::Op::kSnapshot, "", ""},
                        Case{wire::Op::kAckSrm, "ctr", ""}}) {
    wire::Request req;
    req.op = c.op;
    req.body = wire::AdminRequest{c.exp, c.arm};
    std::string frame;
    EncodeRequest(req, &frame);
    wire::Request got = MustDecode(d, frame);
    EXPECT_EQ(got.op, c.op);
    EXPECT_TRUE(wire::IsAdminOp(got.op));
    ASSERT_NE(got.admin(), nullptr);
    EXPECT_EQ(got.admin()->exp, c.exp) << wire::OpName(c.op);
    EXPECT_EQ(got.admin()->arm, c.arm) << wire::OpName(c.op);
  }
  for (std::optional<std::string_view> exp :
       {std::optional<std::string_view>(), std::optional<std::string_view>("ctr")}) {
    wire::Request req;
    req.op = wire::Op::kStatus;
    req.body = wire::StatusRequest{exp};
    std::string frame;
    EncodeRequest(req, &frame);
    wire::Request got = MustDecode(d, frame);
    EXPECT_FALSE(wire::IsAdminOp(got.op));
    ASSERT_NE(got.status(), nullptr);
    EXPECT_EQ(got.status()->exp, exp);
  }
}

TEST(DecoderTest, UnknownKeysAndNilOptionalsAreIgnored) {
  Decoder d;
  FrameBuilder f;
  f.Map(5).Str("op").Str("route").Str("exp").Str("ctr").Str("trace").Array(2).Int(1).Int(2);
  f.Str("unit").pk().pack_nil();
  f.Str("x-extra").Map(1).Str("k").Str("v");
  wire::Request got = MustDecode(d, f.bytes());
  EXPECT_EQ(got.route()->exp, "ctr");
  EXPECT_FALSE(got.route()->unit.has_value());
}

TEST(DecoderTest, IdIsEchoedAsRawBytesWhateverItsType) {
  Decoder d;
  // An id that is itself a map with a float: its exact bytes come back.
  const std::string id = Hex("81 a1 6b cb 3f f0 00 00 00 00 00 00");
  FrameBuilder f;
  f.Map(3).Str("id").Raw(id).Str("op").Str("status").Str("exp").Str("ctr");
  wire::Request got = MustDecode(d, f.bytes());
  EXPECT_EQ(got.id, id);
}

TEST(DecoderTest, ReusingTheDecoderGivesIndependentResults) {
  Decoder d;
  FrameBuilder a, b;
  a.Map(3).Str("op").Str("route").Str("exp").Str("a").Str("input").Array(2).Double(1).Double(2);
  b.Map(3).Str("op").Str("route").Str("exp").Str("b").Str("input").Array(1).Double(7);
  wire::Request first = MustDecode(d, a.bytes());
  EXPECT_EQ(first.route()->input.num_elements(), 2u);
  wire::Request second = MustDecode(d, b.bytes());
  EXPECT_EQ(second.route()->exp, "b");
  ASSERT_EQ(second.route()->input.num_elements(), 1u);
  EXPECT_EQ(second.route()->input.numbers[0], 7.0f);
}

// The request examples of docs/protocol.md, byte for byte.
TEST(DecoderTest, DocumentedRequestExamplesDecode) {
  Decoder d;
  struct Example {
    const char* hex;
    wire::Op op;
  };
  const Example examples[] = {
      {"84 a2 6f 70 a5 72 6f 75 74 65 a2 69 64 01 a3 65 78 70 a3 63 74 72 a4 75 6e 69 74 a2 75 31",
       wire::Op::kRoute},
      {"83 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 a3 63 74 72 a5 69 6e 70 75 74 94 cb 3f e0 00 00 "
       "00 00 00 00 01 00 02",
       wire::Op::kRoute},
      {"83 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 a3 63 74 72 a5 69 6e 70 75 74 82 a5 73 68 61 70 "
       "65 91 02 a4 64 61 74 61 c4 08 00 00 00 3f 00 00 80 3f",
       wire::Op::kRoute},
      {"83 a2 6f 70 a6 72 65 77 61 72 64 a8 64 65 63 69 73 69 6f 6e a2 64 31 a5 76 61 6c 75 65 01",
       wire::Op::kReward},
      {"82 a2 6f 70 a7 72 65 77 61 72 64 73 a5 69 74 65 6d 73 92 92 a2 64 31 01 92 a2 64 32 00",
       wire::Op::kRewards},
      {"82 a2 6f 70 a6 73 74 61 74 75 73 a3 65 78 70 a3 63 74 72", wire::Op::kStatus},
      {"83 a2 6f 70 a7 70 72 6f 6d 6f 74 65 a3 65 78 70 a3 63 74 72 a3 61 72 6d aa 63 68 61 6c 6c "
       "65 6e 67 65 72",
       wire::Op::kPromote},
      {"81 a2 6f 70 a8 73 6e 61 70 73 68 6f 74", wire::Op::kSnapshot},
  };
  std::vector<std::vector<float>> inputs;
  for (const auto& e : examples) {
    const std::string frame = Hex(e.hex);
    wire::Request r = MustDecode(d, frame);
    EXPECT_EQ(r.op, e.op) << e.hex;
    if (const auto* route = r.route(); route && route->input.present()) {
      std::vector<float> v(route->input.num_elements());
      route->input.CopyTo(v);
      inputs.push_back(v);
    }
  }
  ASSERT_EQ(inputs.size(), 2u);
  EXPECT_EQ(inputs[0], (std::vector<float>{0.5f, 1, 0, 2}));
  EXPECT_EQ(inputs[1], (std::vector<float>{0.5f, 1}));
}

}  // namespace
}  // namespace banditd::protocol
