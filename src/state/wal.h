// The write-ahead log's record format and reader (docs/operations.md, Durability).
//
// A segment file `wal-<id>.log` is a sequence of records:
//   u32 length | u32 crc | u8 type | payload[length]      (little-endian)
// where crc is CRC-32C over the type byte and the payload. A crash can leave
// a torn tail (a short or unsynced last record): recovery truncates it. A bad
// record with a valid record anywhere after it, or below the segment's
// durable mark (durable_mark.h), is corruption: recovery refuses to start
// unless asked to repair (keep what precedes it, quarantine the rest).
#pragma once

#include <cstdint>
#include <optional>
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

struct WalParseOptions {
  // Keep what precedes damage instead of refusing (the caller quarantines
  // the dropped bytes).
  bool repair = false;
  // The segment is known durable (acknowledged) up to this offset: damage
  // below it is never taken for a torn tail.
  uint64_t durable_bytes = 0;
  uint32_t max_record_bytes = kMaxRecordBytes;
};

// Parses a whole segment. Damage is a torn tail (truncated by the caller)
// only when it lies at or past `durable_bytes` and no valid record follows it
// anywhere in the file: then it can only be the unfinished last write. Any
// other damage is kCorruption naming `name` and the offset, unless `repair`:
// then parsing stops before it and `repaired` says how much was dropped. A
// record longer than `max_record_bytes` is damage.
Result<WalParse> ParseWal(std::string_view bytes, const std::string& name,
                          const WalParseOptions& options);
Result<WalParse> ParseWal(std::string_view bytes, const std::string& name, bool repair,
                          uint32_t max_record_bytes = kMaxRecordBytes);

// The offset of the first record at or after `from` that checks out (length
// within limits and the file, CRC matching), or bytes.size().
uint64_t FindValidRecord(std::string_view bytes, uint64_t from,
                         uint32_t max_record_bytes = kMaxRecordBytes);

// Records that check out anywhere in `bytes` (at any offset, not only on
// record boundaries): what a piece of damaged log may still hold.
uint64_t CountValidRecords(std::string_view bytes, uint32_t max_record_bytes = kMaxRecordBytes);

// The durable mark: a small file beside the segments that the writer
// rewrites in place (no fsync of its own) after every fsync of the WAL, so it
// never claims more than is on disk. It may lag after a power loss, never
// lead: every byte of `segment` before `bytes`, and every earlier segment,
// was durable and may hold acknowledged rewards. Recovery never takes damage
// there for a torn tail, and a missing segment up to the mark is a gap.
inline constexpr char kDurableMarkFile[] = "wal.durable";
inline constexpr size_t kDurableMarkBytes = 24;
struct DurableMark {
  uint64_t segment = 0;
  uint64_t bytes = 0;
};
std::string EncodeDurableMark(const DurableMark& mark);
// Empty unless `bytes` is a whole mark with a matching checksum.
std::optional<DurableMark> DecodeDurableMark(std::string_view bytes);

// The first record of every segment but the very first names the segment
// before it and the size that segment ended with, so recovery can tell a
// segment that was cut short (at a record boundary, where nothing else shows
// it) or grew. Its own record type; payload u64 segment, u64 bytes.
inline constexpr uint8_t kSegmentHeaderRecord = 0xFD;
struct SegmentEnd {
  uint64_t segment = 0;
  uint64_t bytes = 0;
};
std::string EncodeSegmentEnd(const SegmentEnd& end);
std::optional<SegmentEnd> DecodeSegmentEnd(std::string_view payload);

// "wal-000000000042.log" <-> 42.
std::string WalSegmentName(uint64_t id);
bool ParseWalSegmentName(std::string_view name, uint64_t* id);

}  // namespace banditd::state
