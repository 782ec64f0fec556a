// Hostile and malformed frames: each is refused with its precise wire code
// and a message naming what is wrong, and the decoder keeps working after.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "src/protocol/decoder.h"
#include "tests/unit/protocol/frames.h"

namespace banditd::protocol {
namespace {

using testing::FrameBuilder;
using testing::Hex;

struct HostileCase {
  std::string name;
  std::string frame;
  Code code;
  std::string message_part;  // must appear in the error message
};

// {op: "route", exp: "ctr", input: <what>}
std::string RouteWithInput(const std::function<void(FrameBuilder&)>& input) {
  FrameBuilder f;
  f.Map(3).Str("op").Str("route").Str("exp").Str("ctr").Str("input");
  input(f);
  return f.bytes();
}

std::string RouteWithContext(const std::function<void(FrameBuilder&)>& context) {
  FrameBuilder f;
  f.Map(3).Str("op").Str("route").Str("exp").Str("ctr").Str("context");
  context(f);
  return f.bytes();
}

std::string Tensor(std::vector<int64_t> shape, std::string data, bool as_bin = true) {
  FrameBuilder f;
  f.Map(2).Str("shape").Array(static_cast<uint32_t>(shape.size()));
  for (int64_t d : shape) f.Int(d);
  f.Str("data");
  if (as_bin) {
    f.Bin(data);
  } else {
    f.Str(data);
  }
  return f.bytes();
}

std::string Floats(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string Reward(const std::function<void(FrameBuilder&)>& value) {
  FrameBuilder f;
  f.Map(3).Str("op").Str("reward").Str("decision").Str("d1").Str("value");
  value(f);
  return f.bytes();
}

std::vector<HostileCase> Cases() {
  std::vector<HostileCase> c;
  const Code kBad = Code::kBadRequest;
  c.push_back({"empty frame", "", kBad, "empty frame"});
  c.push_back({"array bomb", Hex("dd ff 00 00 00"), kBad,
               "array of 4278190080 entries exceeds the limit of 65536"});
  c.push_back({"map bomb", Hex("df ff ff ff ff"), kBad, "map of 4294967295 entries"});
  c.push_back({"str32 bomb", Hex("db ff ff ff ff 61"), kBad, "string of 4294967295 bytes"});
  c.push_back({"bin32 bomb", Hex("81 a2 69 64 c6 7f ff ff ff 00"), kBad, "truncated"});
  c.push_back({"reserved byte", Hex("c1"), kBad, "reserved byte 0xc1"});
  c.push_back({"garbage text", "hello world", kBad, "trailing bytes"});
  c.push_back(
      {"truncated map", Hex("82 a2 6f 70"), kBad, "claims 2 entries but only 3 bytes follow"});
  c.push_back({"truncated header", Hex("dc 01"), kBad, "truncated frame inside a header"});
  {
    FrameBuilder f;
    f.Map(1).Str("op").Str("snapshot").Raw(Hex("00"));
    c.push_back({"trailing byte after map", f.bytes(), kBad, "1 trailing bytes"});
  }
  c.push_back({"root is an array", Hex("92 a2 6f 70 01"), kBad, "must be a msgpack map"});
  c.push_back({"root is a string", Hex("a5 72 6f 75 74 65"), kBad, "must be a msgpack map"});
  {
    FrameBuilder f;
    f.Map(2).Str("op").Str("status").Str("id");
    for (int i = 0; i < 100; ++i) f.Array(1);
    f.Int(1);
    c.push_back({"deep nesting in id", f.bytes(), kBad, "nesting deeper than 16"});
  }
  {
    std::string big(wire::DecodeLimits{}.max_frame_bytes + 1, '\0');
    c.push_back({"oversized frame", big, kBad, "exceeds the limit of 1048576 bytes"});
  }
  c.push_back({"missing op", Hex("81 a3 65 78 70 a3 63 74 72"), kBad, "missing key 'op'"});
  c.push_back({"op is not a string", Hex("81 a2 6f 70 01"), kBad, "'op' must be a string"});
  c.push_back({"unknown op", Hex("81 a2 6f 70 a7 65 78 70 6c 6f 64 65"), Code::kUnknownOp,
               "unknown op 'explode'"});
  c.push_back({"non-string key", Hex("82 01 02 a2 6f 70 a6 73 74 61 74 75 73"), kBad,
               "keys must be strings"});
  c.push_back({"route without exp", Hex("81 a2 6f 70 a5 72 6f 75 74 65"), kBad,
               "route: missing key 'exp'"});
  c.push_back({"exp is an integer", Hex("82 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 07"), kBad,
               "'exp' must be a string"});
  c.push_back({"exp is empty", Hex("82 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 a0"), kBad,
               "'exp' must not be empty"});
  {
    FrameBuilder f;
    f.Map(3).Str("op").Str("route").Str("exp").Str("a").Str("exp").Str("b");
    c.push_back({"duplicate key", f.bytes(), kBad, "key 'exp' appears twice"});
  }
  c.push_back({"unit is a number",
               Hex("83 a2 6f 70 a5 72 6f 75 74 65 a3 65 78 70 a1 78 a4 75 6e 69 74 05"), kBad,
               "'unit' must be a string"});
  const Code kInput = Code::kInvalidInput;
  c.push_back({"input is a string", RouteWithInput([](FrameBuilder& f) { f.Str("1,2,3"); }), kInput,
               "'input' must be an array of numbers or a {shape, data} map"});
  c.push_back({"input is empty", RouteWithInput([](FrameBuilder& f) { f.Array(0); }), kInput,
               "'input' must not be empty"});
  c.push_back({"input holds a string",
               RouteWithInput([](FrameBuilder& f) { f.Array(2).Double(1).Str("x"); }), kInput,
               "input[1] must be a number"});
  c.push_back({"input holds NaN",
               RouteWithInput([](FrameBuilder& f) { f.Array(2).Double(NAN).Double(1); }), kInput,
               "input[0] is not a finite float32"});
  c.push_back({"input overflows float32",
               RouteWithInput([](FrameBuilder& f) { f.Array(1).Double(1e39); }), kInput,
               "input[0] is not a finite float32"});
  c.push_back({"tensor shape/data mismatch", RouteWithInput([](FrameBuilder& f) {
                 f.Raw(Tensor({2, 4}, Floats({1, 2, 3, 4, 5, 6, 7})));
               }),
               kInput, "input.shape needs 8 float32 (32 bytes) but input.data has 28 bytes"});
  c.push_back({"tensor data not a multiple of 4",
               RouteWithInput([](FrameBuilder& f) { f.Raw(Tensor({1}, "abc")); }), kInput,
               "needs 1 float32 (4 bytes) but input.data has 3 bytes"});
  c.push_back({"tensor data is a string",
               RouteWithInput([](FrameBuilder& f) { f.Raw(Tensor({1}, "abcd", false)); }), kInput,
               "input.data must be bin"});
  c.push_back({"tensor zero dimension",
               RouteWithInput([](FrameBuilder& f) { f.Raw(Tensor({0}, "")); }), kInput,
               "input.shape[0] must be an integer"});
  c.push_back({"tensor negative dimension", RouteWithInput([](FrameBuilder& f) {
                 f.Raw(Tensor({2, -2}, Floats({1, 2})));
               }),
               kInput, "input.shape[1] must be an integer"});
  c.push_back({"tensor with 9 dimensions", RouteWithInput([](FrameBuilder& f) {
                 f.Raw(Tensor({1, 1, 1, 1, 1, 1, 1, 1, 1}, Floats({1})));
               }),
               kInput, "input.shape must be an array of 1 to 8 dimensions"});
  c.push_back({"tensor shape product overflows", RouteWithInput([](FrameBuilder& f) {
                 f.Raw(Tensor({1 << 30, 1 << 30, 1 << 30}, Floats({1})));
               }),
               kInput, "more floats than a frame holds"});
  c.push_back({"tensor holds inf", RouteWithInput([](FrameBuilder& f) {
                 f.Raw(Tensor({2}, Floats({1, std::numeric_limits<float>::infinity()})));
               }),
               kInput, "input.data[1] is not a finite float32"});
  c.push_back({"tensor without data",
               RouteWithInput([](FrameBuilder& f) { f.Map(1).Str("shape").Array(1).Int(1); }),
               kInput, "input.data must be bin"});
  const Code kContext = Code::kBadContext;
  c.push_back({"context is a map", RouteWithContext([](FrameBuilder& f) { f.Map(0); }), kContext,
               "'context' must be an array of numbers"});
  c.push_back({"context holds inf",
               RouteWithContext([](FrameBuilder& f) { f.Array(2).Double(1).Double(INFINITY); }),
               kContext, "context[1] must be a finite number"});
  c.push_back({"context holds NaN",
               RouteWithContext([](FrameBuilder& f) { f.Array(2).Double(NAN).Double(1); }),
               kContext, "context[0] must be a finite number"});
  c.push_back({"context holds a string",
               RouteWithContext([](FrameBuilder& f) { f.Array(1).Str("1"); }), kContext,
               "context[0] must be a finite number"});
  const Code kValue = Code::kInvalidValue;
  c.push_back({"reward NaN", Reward([](FrameBuilder& f) { f.Double(NAN); }), kValue,
               "'value' must be finite"});
  c.push_back({"reward -inf", Reward([](FrameBuilder& f) { f.Double(-INFINITY); }), kValue,
               "'value' must be finite"});
  c.push_back({"reward value is a string", Reward([](FrameBuilder& f) { f.Str("1"); }), kBad,
               "'value' must be a number"});
  c.push_back({"reward value is a bool", Reward([](FrameBuilder& f) { f.pk().pack_true(); }), kBad,
               "'value' must be a number"});
  c.push_back({"reward without decision",
               Hex("82 a2 6f 70 a6 72 65 77 61 72 64 a5 76 61 6c 75 65 01"), kBad,
               "reward: missing key 'decision'"});
  // Before 1970, or beyond the range (and any time decision ids hold).
  for (const double at : {-5.0, 1e308, double{INFINITY}, double{NAN}, 4294967296.0}) {
    FrameBuilder f;
    f.Map(4)
        .Str("op")
        .Str("reward")
        .Str("decision")
        .Str("d")
        .Str("value")
        .Int(1)
        .Str("at")
        .Double(at);
    c.push_back({"reward at " + std::to_string(at), f.bytes(), kValue,
                 "'at' must be Unix seconds in [0, 4294967295] (1970 to 2106)"});
  }
  c.push_back({"rewards items is a map",
               Hex("82 a2 6f 70 a7 72 65 77 61 72 64 73 a5 69 74 65 6d 73 80"), kBad,
               "'items' must be an array"});
  {
    FrameBuilder f;
    f.Map(2).Str("op").Str("rewards").Str("items").Array(2);
    f.Array(2).Str("a").Int(1);
    f.Array(1).Str("b");
    c.push_back({"rewards item of one element", f.bytes(), kBad, "items[1] must be [decision"});
  }
  c.push_back({"promote without arm",
               Hex("82 a2 6f 70 a7 70 72 6f 6d 6f 74 65 a3 65 78 70 a3 63 74 72"), kBad,
               "promote: missing key 'arm'"});
  c.push_back({"pause without exp", Hex("81 a2 6f 70 a5 70 61 75 73 65"), kBad,
               "pause: missing key 'exp'"});
  {
    FrameBuilder f;
    f.Map(3).Str("op").Str("route").Str("exp").Str("ctr").Str("input").Array(70000);
    for (int i = 0; i < 70000; ++i) f.Int(1);
    c.push_back({"array over the item limit", f.bytes(), kBad, "array of 70000 entries exceeds"});
  }
  {
    FrameBuilder f;
    f.Map(2).Str("op").Str("status").Str(std::string(5000, 'k')).Int(1);
    c.push_back({"string over the limit", f.bytes(), kBad, "string of 5000 bytes exceeds"});
  }
  {
    FrameBuilder f;
    f.Map(300);
    for (int i = 0; i < 300; ++i) f.Str("k" + std::to_string(i)).Int(i);
    c.push_back({"map over the entry limit", f.bytes(), kBad, "map of 300 entries exceeds"});
  }
  {
    FrameBuilder f;
    f.Map(2).Str("op").Str("snapshot").Str("id");
    f.pk().pack_ext(5000, 7);
    f.pk().pack_ext_body(std::string(5000, 'e').data(), 5000);
    c.push_back(
        {"ext over the limit", f.bytes(), kBad, "ext of 5000 bytes exceeds the limit of 4096"});
  }
  c.push_back({"nested claim past the end",
               Hex("82 a2 6f 70 a6 73 74 61 74 75 73 a2 69 64 dc 00 c8 01 02 03"), kBad,
               "claims 200 entries but only 3 bytes follow"});
  return c;
}

TEST(HostileTest, EveryFrameGetsItsCodeAndTheDecoderCarriesOn) {
  Decoder d;
  FrameBuilder good;
  good.Map(2).Str("op").Str("route").Str("exp").Str("ctr");
  const auto cases = Cases();
  ASSERT_GE(cases.size(), 25u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    wire::Request r;
    Status s = d.Decode(c.frame, &r);
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_NE(s.message().find(c.message_part), std::string::npos) << s.message();
    wire::Request ok;
    Status after = d.Decode(good.bytes(), &ok);
    EXPECT_TRUE(after.ok()) << after.ToString();
  }
}

TEST(HostileTest, ErrorsKeepTheClientIdWhenTheFrameIsAMap) {
  Decoder d;
  wire::Request r;
  // {id: 7, op: "explode"}
  const std::string frame = Hex("82 a2 69 64 07 a2 6f 70 a7 65 78 70 6c 6f 64 65");
  Status s = d.Decode(frame, &r);
  EXPECT_EQ(s.code(), Code::kUnknownOp);
  EXPECT_EQ(r.id, Hex("07"));
  // A frame that is not valid msgpack has no id to echo.
  const std::string cut = Hex("82 a2 69 64 07 a2 6f 70");
  s = d.Decode(cut, &r);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_TRUE(r.id.empty());
}

TEST(HostileTest, TighterLimitsAreHonoured) {
  wire::DecodeLimits limits;
  limits.max_frame_bytes = 32;
  limits.max_depth = 2;
  Decoder d(limits);
  wire::Request r;
  FrameBuilder nested;
  nested.Map(2).Str("op").Str("status").Str("id").Array(1).Array(0);
  Status s = d.Decode(nested.bytes(), &r);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("nesting deeper than 2"), std::string::npos) << s.message();
  FrameBuilder long_frame;
  long_frame.Map(2).Str("op").Str("status").Str("exp").Str(std::string(40, 'x'));
  s = d.Decode(long_frame.bytes(), &r);
  EXPECT_NE(s.message().find("exceeds the limit of 32 bytes"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace banditd::protocol
