#include "tests/fuzz/wal_fuzz_one.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/state/wal.h"

namespace banditd::state::fuzz {
namespace {

[[noreturn]] void Finding(const char* what) {
  std::fprintf(stderr, "WAL fuzz property broken: %s\n", what);
  std::abort();
}

void CheckParse(std::string_view bytes, const WalParse& p) {
  if (p.valid_bytes > bytes.size()) Finding("valid_bytes past the end");
  std::string reframed;
  uint64_t last = 0;
  for (size_t i = 0; i < p.records.size(); ++i) {
    const WalRecord& r = p.records[i];
    if (i > 0 && r.offset <= last) Finding("offsets do not increase");
    last = r.offset;
    if (r.offset != reframed.size()) Finding("a record does not start where the previous ended");
    if (r.payload.data() < bytes.data() ||
        r.payload.data() + r.payload.size() > bytes.data() + bytes.size()) {
      Finding("payload outside the buffer");
    }
    AppendRecord(reframed, r.type, r.payload);
  }
  if (reframed != bytes.substr(0, p.valid_bytes)) Finding("the intact prefix does not re-frame");
  if (!p.torn_tail && !p.repaired && p.valid_bytes != bytes.size()) {
    Finding("bytes left over without a torn tail or a repair");
  }
}

}  // namespace

void WalFuzzOne(std::string_view bytes) {
  auto strict = ParseWal(bytes, "fuzz", /*repair=*/false);
  if (strict.ok()) {
    CheckParse(bytes, *strict);
  } else if (strict.status().code() != Code::kCorruption) {
    Finding("a strict parse failed with a code other than corruption");
  }
  auto repaired = ParseWal(bytes, "fuzz", /*repair=*/true);
  if (!repaired.ok()) Finding("repair mode failed");
  CheckParse(bytes, *repaired);
  if (strict.ok() && strict->records.size() != repaired->records.size()) {
    Finding("repair changed a log the strict parse accepted");
  }
}

}  // namespace banditd::state::fuzz
