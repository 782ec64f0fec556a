// Protocol hot path: decode a route request, encode its reply.
// Run: build/bin/protocol_bench  (figures in docs/protocol.md, "Performance")
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "src/protocol/decoder.h"
#include "src/protocol/encoder.h"

namespace banditd::protocol {
namespace {

// {op: route, id: 42, exp: ctr, unit: user-17, input: <8 floats>} in either form.
std::string RouteFrame(bool tensor) {
  const std::vector<float> values = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  wire::Request r;
  const std::string id = "\x2a";  // positive fixint 42
  r.id = id;
  auto& route = r.body.emplace<wire::RouteRequest>();
  route.exp = "ctr";
  route.unit = "user-17";
  if (tensor) {
    route.input.form = wire::InputView::Form::kTensor;
    route.input.rank = 1;
    route.input.shape[0] = 8;
    route.input.tensor_bytes = bytes;
  } else {
    route.input.form = wire::InputView::Form::kNumbers;
    route.input.numbers = values;
  }
  std::string frame;
  EncodeRequest(r, &frame);
  return frame;
}

void BM_DecodeRoute(benchmark::State& state, bool tensor, bool with_input) {
  std::string frame;
  if (with_input) {
    frame = RouteFrame(tensor);
  } else {
    wire::Request r;
    r.body.emplace<wire::RouteRequest>().exp = "ctr";
    EncodeRequest(r, &frame);
  }
  Decoder d;
  wire::Request out;
  for (auto _ : state) {
    Status s = d.Decode(frame, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK_CAPTURE(BM_DecodeRoute, route_only, false, false);
BENCHMARK_CAPTURE(BM_DecodeRoute, numbers8, false, true);
BENCHMARK_CAPTURE(BM_DecodeRoute, tensor8, true, true);

void BM_EncodeRouteReply(benchmark::State& state, bool with_output) {
  const float output[1] = {0.031f};
  wire::RouteReply reply;
  reply.id = "\x2a";
  reply.decision = "0000000100000a2f";
  reply.arm = "challenger";
  reply.p = 0.43;
  reply.epoch = 3;
  if (with_output) reply.output = std::span<const float>(output);
  std::string out;
  for (auto _ : state) {
    EncodeRouteReply(reply, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK_CAPTURE(BM_EncodeRouteReply, route_only, false);
BENCHMARK_CAPTURE(BM_EncodeRouteReply, with_output, true);

void BM_DecodeHostileArrayBomb(benchmark::State& state) {
  const std::string frame("\xdd\xff\x00\x00\x00", 5);
  Decoder d;
  wire::Request out;
  for (auto _ : state) {
    Status s = d.Decode(frame, &out);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_DecodeHostileArrayBomb);

}  // namespace
}  // namespace banditd::protocol

BENCHMARK_MAIN();
