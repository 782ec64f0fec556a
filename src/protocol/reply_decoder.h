// Client-side decoding of replies (banditctl, bandit-sim live, integration
// tests). Not on the daemon's hot path: results own their strings.
//
// Every function first checks the frame like Decoder does (ScanFrame +
// msgpack::unpack_limit). An error reply {ok: false, error: {code, message}}
// comes back as a non-OK Status carrying the server's code and message; a
// reply that cannot be read comes back as kBadRequest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"
#include "banditd/wire.h"

namespace banditd::protocol {

// The Code whose CodeName() is `name`; nullopt for an unknown spelling.
std::optional<Code> CodeFromName(std::string_view name);

struct RouteResult {
  std::string id;  // raw msgpack of the echoed id; empty when none
  std::string decision;
  std::string arm;
  double p = 0;
  uint64_t epoch = 0;
  std::optional<std::vector<float>> output;
  std::optional<std::string> served_by;
};

struct RewardsResult {
  std::string id;
  uint64_t accepted = 0;
  std::vector<std::pair<std::string, Code>> rejected;  // (decision, code)
};

struct StatusResult {
  std::string id;
  std::vector<wire::ExperimentReport> experiments;
  std::optional<wire::ProcessReport> process;  // the daemon's memory and CPU
};

Result<RouteResult> DecodeRouteReply(std::string_view frame);
Result<RewardsResult> DecodeRewardsReply(std::string_view frame);
Result<StatusResult> DecodeStatusReply(std::string_view frame);
// For `reward` and the admin ops: OK, or the error the server sent.
Status DecodeOkReply(std::string_view frame);

}  // namespace banditd::protocol
