#include "src/protocol/json.h"

#include <gtest/gtest.h>

#include <cmath>

#include "src/protocol/encoder.h"
#include "tests/unit/protocol/frames.h"

namespace banditd::protocol {
namespace {

using testing::FrameBuilder;
using testing::Hex;

std::string Json(std::string_view frame) {
  auto r = MsgpackToJson(frame);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

TEST(JsonTest, ErrorReplyBecomesJson) {
  std::string out;
  EncodeErrorReply({Hex("07"), Code::kBadRequest, "say \"hi\"\n"}, &out);
  EXPECT_EQ(Json(out),
            R"({"ok":false,"id":7,"error":{"code":"bad_request","message":"say \"hi\"\n"}})");
}

TEST(JsonTest, EveryTypeHasItsJsonForm) {
  FrameBuilder f;
  f.Array(9);
  f.pk().pack_nil();
  f.pk().pack_true();
  f.Int(-5);
  f.Double(0.25);
  f.Double(NAN);
  f.Bin(std::string("\x01\xff", 2));
  f.Str(std::string("a\x01\xc3\xa9\xff", 5));  // control char, valid é, invalid byte
  f.Map(1).Int(3).Str("x");
  f.pk().pack_ext(2, 4);
  f.pk().pack_ext_body("ab", 2);
  EXPECT_EQ(Json(f.bytes()),
            "[null,true,-5,0.25,null,\"01ff\",\"a\\u0001\xc3\xa9\\ufffd\",{\"3\":\"x\"},"
            "{\"ext\":4,\"hex\":\"6162\"}]");
}

TEST(JsonTest, ContainerKeysArePlaceholders) {
  FrameBuilder f;
  f.Map(2).Map(1).Str("k").Int(1).Int(2).Array(0).Str("v");
  EXPECT_EQ(Json(f.bytes()), R"({"<map>":2,"<array>":"v"})");
}

// Found by the fuzzer: maps nested as keys of maps, 30 deep. Rendering each
// key as an escaped string made the output (and the time) grow as 2^depth.
TEST(JsonTest, NestedContainerKeysStaySmall) {
  FrameBuilder f;
  for (int i = 0; i < 30; ++i) f.Map(1);
  f.Int(1);
  for (int i = 0; i < 30; ++i) f.Int(i);
  auto json = MsgpackToJson(f.bytes());
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"<map>":29})");
}

TEST(JsonTest, HostileInputIsRefused) {
  EXPECT_EQ(MsgpackToJson(Hex("dd ff 00 00 00")).status().code(), Code::kBadRequest);
  EXPECT_EQ(MsgpackToJson("").status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace banditd::protocol
