#include "tests/fuzz/fuzz_one.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/protocol/decoder.h"
#include "src/protocol/encoder.h"
#include "src/protocol/frame_scan.h"
#include "src/protocol/json.h"
#include "src/protocol/reply_decoder.h"

namespace banditd::protocol::fuzz {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

bool IsWireCode(Code c) { return c >= Code::kBadRequest && c <= Code::kInternal; }

}  // namespace

void FuzzOne(std::string_view data) {
  static Decoder decoder;  // reused like the server's, so zone reuse is fuzzed too
  wire::Request request;
  Status s = decoder.Decode(data, &request);
  std::string out;
  if (!s.ok()) {
    Check(IsWireCode(s.code()), "decode error without a wire code");
    Check(!s.message().empty(), "decode error without a message");
    EncodeErrorReply({request.id, s.code(), s.message()}, &out);
    Check(DecodeOkReply(out).code() == s.code(), "error reply does not round trip");
  } else {
    EncodeRequest(request, &out);
    const wire::Op op = request.op;
    const std::string id(request.id);
    // Re-encoding may widen numbers (a fixint becomes a float64), so the
    // second decode allows a bigger frame; every other limit is unchanged.
    wire::DecodeLimits wider = decoder.limits();
    wider.max_frame_bytes *= 4;
    Decoder again(wider);
    wire::Request second;
    Status s2 = again.Decode(out, &second);
    Check(s2.ok(), "re-encoded request does not decode");
    Check(second.op == op, "op changed in a round trip");
    Check(second.id == id, "id changed in a round trip");
  }
  // The decoder finds the id during its scan: that must agree with the
  // separate FindRootValue walk, byte for byte and position for position.
  for (std::string_view key : {"id", "op", "exp"}) {
    std::string_view found;
    if (ScanFrame(data, decoder.limits(), key, &found).ok()) {
      const std::string_view expected = FindRootValue(data, key);
      Check(found.size() == expected.size() && (found.empty() || found.data() == expected.data()),
            "one-pass root value differs from FindRootValue");
    }
  }
  // Client-side reply decoders and the JSON view see server bytes, but must
  // not crash either.
  (void)DecodeRouteReply(data);
  (void)DecodeRewardsReply(data);
  (void)DecodeStatusReply(data);
  (void)MsgpackToJson(data);
}

}  // namespace banditd::protocol::fuzz
