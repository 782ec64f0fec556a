// The property every fuzz input is held to, shared by the libFuzzer target
// and the corpus replay test so CI checks exactly what the fuzzer checked.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace banditd::protocol::fuzz {

// Decodes `data` as a request, as each kind of reply and as JSON. Aborts (a finding)
// when a property breaks: a failed decode must carry a wire code and a
// message; a successful one must re-encode to a frame that decodes to the
// same op and id.
void FuzzOne(std::string_view data);

}  // namespace banditd::protocol::fuzz

namespace banditd::fuzz {

// Every regular file in the corpus directory `dir`, as (path, bytes): what
// the corpus replay tests (protocol and snapshot) feed their property.
inline std::vector<std::pair<std::string, std::string>> ReadCorpus(
    const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files.emplace_back(entry.path().string(), bytes.str());
  }
  return files;
}

}  // namespace banditd::fuzz
