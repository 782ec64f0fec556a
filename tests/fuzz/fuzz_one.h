// The property every fuzz input is held to, shared by the libFuzzer target
// and the corpus replay test so CI checks exactly what the fuzzer checked.
#pragma once

#include <string_view>

namespace banditd::protocol::fuzz {

// Decodes `data` as a request, as each kind of reply and as JSON. Aborts (a finding)
// when a property breaks: a failed decode must carry a wire code and a
// message; a successful one must re-encode to a frame that decodes to the
// same op and id.
void FuzzOne(std::string_view data);

}  // namespace banditd::protocol::fuzz
