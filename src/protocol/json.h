// msgpack -> JSON text, for humans and scripts: `banditctl status --json`,
// `banditctl route` output, logging a reply. Not on the daemon's hot path.
#pragma once

#include <string>
#include <string_view>

#include "banditd/status.h"

namespace banditd::protocol {

// Converts one msgpack value (checked and unpacked with bounded limits like
// every other decode) to compact JSON. nil, NaN and ±inf become null; bin
// becomes a lowercase hex string; ext becomes {"ext": type, "hex": "..."};
// a non-string scalar map key becomes its JSON text as a string, an array or
// map key becomes "<array>" / "<map>". Strings are
// escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD.
Result<std::string> MsgpackToJson(std::string_view frame);

}  // namespace banditd::protocol
