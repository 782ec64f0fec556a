#pragma once

#include <string>
#include <string_view>

#include "banditd/status.h"

namespace banditd::model {

// SHA-256 of an in-memory buffer as 64 lowercase hex digits (Sha256File is in
// the public header).
Result<std::string> Sha256Bytes(std::string_view bytes);

}  // namespace banditd::model
