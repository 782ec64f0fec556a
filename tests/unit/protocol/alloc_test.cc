// The hot path barely allocates: encoding a route reply into a reused string
// makes no heap allocation, decoding a route request with a warmed-up
// Decoder makes only msgpack's two fixed-size parse-stack allocations, and
// the array bomb is refused without allocating its claim.
//
// Allocation is counted by interposing malloc (which both operator new and
// msgpack's zone use). Sanitizer builds own malloc, so there this test only
// checks the decoding results.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>

#include "src/protocol/decoder.h"
#include "src/protocol/encoder.h"
#include "tests/unit/protocol/frames.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BANDITD_NO_MALLOC_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define BANDITD_NO_MALLOC_COUNT 1
#endif

namespace {
bool g_counting = false;
size_t g_calls = 0;
size_t g_bytes = 0;
}  // namespace

#ifndef BANDITD_NO_MALLOC_COUNT
extern "C" void* __libc_malloc(size_t size);
extern "C" void* malloc(size_t size) {
  if (g_counting) {
    ++g_calls;
    g_bytes += size;
  }
  return __libc_malloc(size);
}
#endif

namespace banditd::protocol {
namespace {

using testing::FrameBuilder;
using testing::Hex;

class CountMallocs {
 public:
  CountMallocs() {
    g_calls = 0;
    g_bytes = 0;
    g_counting = true;
  }
  ~CountMallocs() { g_counting = false; }
};

constexpr bool kCounting =
#ifdef BANDITD_NO_MALLOC_COUNT
    false;
#else
    true;
#endif

TEST(AllocTest, WarmRouteDecodeAndReplyEncodeBarelyAllocate) {
  FrameBuilder f;
  f.Map(5).Str("op").Str("route").Str("id").Int(42).Str("exp").Str("ctr").Str("unit").Str(
      "user-17");
  f.Str("input").Array(8);
  for (int i = 0; i < 8; ++i) f.Double(0.1 * i);
  Decoder d;
  std::string out;
  wire::Request r;
  const float output[1] = {0.3f};
  wire::RouteReply reply;
  reply.decision = "00000000deadbeef";
  reply.arm = "champion";
  reply.p = 0.5;
  reply.epoch = 1;
  reply.output = std::span<const float>(output);
  ASSERT_TRUE(d.Decode(f.bytes(), &r).ok());  // warm-up
  EncodeRouteReply(reply, &out);              // the reply string grows once

  constexpr size_t kRounds = 100;
  size_t decode_calls = 0, decode_bytes = 0;
  {
    CountMallocs count;
    for (size_t i = 0; i < kRounds; ++i) {
      if (!d.Decode(f.bytes(), &r).ok()) break;
    }
    decode_calls = g_calls;
    decode_bytes = g_bytes;
  }
  ASSERT_EQ(r.route()->input.num_elements(), 8u);
  {
    CountMallocs count;
    for (size_t i = 0; i < kRounds; ++i) {
      reply.id = r.id;
      EncodeRouteReply(reply, &out);
    }
  }
  if (kCounting) {
    // Encoding never allocates. Decoding makes exactly two small fixed-size
    // allocations: the parse stacks msgpack::unpack reserves on every call
    // (MSGPACK_EMBED_STACK_SIZE entries each); the zone, the scratch
    // buffers and the views allocate nothing.
    EXPECT_EQ(g_calls, 0u);
    EXPECT_EQ(decode_calls, 2 * kRounds);
    EXPECT_LE(decode_bytes, 2 * kRounds * 512);
  }
}

TEST(AllocTest, ArrayBombIsRefusedWithoutAllocatingItsClaim) {
  Decoder d;
  wire::Request r;
  Status s;
  {
    CountMallocs count;
    s = d.Decode(Hex("dd ff 00 00 00"), &r);
  }
  EXPECT_EQ(s.code(), Code::kBadRequest);
  // Only the error message is allocated.
  if (kCounting) {
    EXPECT_LT(g_bytes, 1024u);
  }
}

}  // namespace
}  // namespace banditd::protocol
