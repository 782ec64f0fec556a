// The write-ahead log's record format and reader (DESIGN.md §8).
//
// A segment file `wal-<id>.log` is a sequence of records:
//   u32 length | u32 crc | u8 type | payload[length]      (little-endian)
// where crc is CRC-32C over the type byte and the payload. A crash can leave
// a torn tail (a short or unsynced last record): recovery truncates it. A bad
// record with valid data after it is corruption in the middle: recovery
// refuses to start unless asked to repair (keep what precedes it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "banditd/status.h"

namespace banditd::state {

inline constexpr size_t kRecordHeaderBytes = 9;
inline constexpr uint32_t kMaxRecordBytes = 16u << 20;
// The snapshot file is one record in the same framing, allowed to be larger
// (it holds every experiment's state, e.g. contextual experiments' context
// stores of up to 1 GiB each).
inline constexpr uint32_t kMaxSnapshotBytes = 3u << 30;

uint32_t Crc32c(std::string_view a, std::string_view b = {});

// Appends one framed record to `out`.
void AppendRecord(std::string& out, uint8_t type, std::string_view payload);

struct WalRecord {
  uint8_t type = 0;
  std::string_view payload;  // points into the parsed buffer
  uint64_t offset = 0;       // of the record's header in its segment
};

struct WalParse {
  std::vector<WalRecord> records;
  uint64_t valid_bytes = 0;  // length of the intact prefix
  bool torn_tail = false;    // bytes after valid_bytes were a torn last record
  bool repaired = false;     // corruption in the middle was cut off (repair mode)
  std::string note;          // what was truncated or dropped, for the log
};

// Parses a whole segment. Corruption in the middle is kCorruption naming
// `name` and the offset, unless `repair`: then parsing stops before the bad
// record and `repaired` says how much was dropped. A record longer than
// `max_record_bytes` is damage.
Result<WalParse> ParseWal(std::string_view bytes, const std::string& name, bool repair,
                          uint32_t max_record_bytes = kMaxRecordBytes);

// "wal-000000000042.log" <-> 42.
std::string WalSegmentName(uint64_t id);
bool ParseWalSegmentName(std::string_view name, uint64_t* id);

}  // namespace banditd::state
