#include "src/state/wal.h"

#include <cstdio>
#include <limits>

#include <boost/crc.hpp>

namespace banditd::state {
namespace {

uint32_t Load32(const char* p) {
  return static_cast<uint32_t>(static_cast<unsigned char>(p[0])) |
         static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(p[3])) << 24;
}

void Store32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void Store64(std::string& out, uint64_t v) {
  Store32(out, static_cast<uint32_t>(v));
  Store32(out, static_cast<uint32_t>(v >> 32));
}

uint64_t Load64(const char* p) {
  return static_cast<uint64_t>(Load32(p)) | static_cast<uint64_t>(Load32(p + 4)) << 32;
}

bool AllZero(std::string_view s) {
  for (char c : s) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace

uint32_t Crc32c(std::string_view a, std::string_view b) {
  // CRC-32C (Castagnoli): reflected polynomial 0x1EDC6F41.
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(a.data(), a.size());
  crc.process_bytes(b.data(), b.size());
  return crc.checksum();
}

void AppendRecord(std::string& out, uint8_t type, std::string_view payload) {
  const char t = static_cast<char>(type);
  Store32(out, static_cast<uint32_t>(payload.size()));
  Store32(out, Crc32c(std::string_view(&t, 1), payload));
  out.push_back(t);
  out.append(payload);
}

namespace {

// A record that checks out at `off`: its length fits, its CRC matches, and it
// is not all zeros. Returns its total size, or 0.
uint64_t ValidRecordAt(std::string_view bytes, uint64_t off, uint32_t max_record_bytes) {
  if (bytes.size() - off < kRecordHeaderBytes) return 0;
  const char* p = bytes.data() + off;
  const uint32_t len = Load32(p);
  const uint32_t crc = Load32(p + 4);
  if (len > max_record_bytes || kRecordHeaderBytes + len > bytes.size() - off) return 0;
  if (len == 0 && crc == 0) return 0;
  if (Crc32c(std::string_view(p + 8, 1), std::string_view(p + kRecordHeaderBytes, len)) != crc) {
    return 0;
  }
  return kRecordHeaderBytes + len;
}

// Why the bytes at `off` are no record, for the messages.
std::string Problem(std::string_view bytes, uint64_t off, uint32_t max_record_bytes) {
  const std::string_view rest = bytes.substr(off);
  if (rest.size() < kRecordHeaderBytes) return "incomplete record header";
  const uint32_t len = Load32(rest.data());
  if (len > max_record_bytes) return "record length " + std::to_string(len) + " is past the limit";
  if (kRecordHeaderBytes + len > rest.size()) return "record runs past the end of the file";
  if (AllZero(rest.substr(0, kRecordHeaderBytes))) return "zeroed record header";
  return "checksum mismatch";
}

}  // namespace

uint64_t FindValidRecord(std::string_view bytes, uint64_t from, uint32_t max_record_bytes) {
  for (uint64_t off = from; off + kRecordHeaderBytes <= bytes.size(); ++off) {
    if (ValidRecordAt(bytes, off, max_record_bytes) != 0) return off;
  }
  return bytes.size();
}

uint64_t CountValidRecords(std::string_view bytes, uint32_t max_record_bytes) {
  uint64_t n = 0;
  for (uint64_t off = FindValidRecord(bytes, 0, max_record_bytes); off < bytes.size();
       off = FindValidRecord(bytes, off, max_record_bytes)) {
    ++n;
    off += ValidRecordAt(bytes, off, max_record_bytes);
  }
  return n;
}

Result<WalParse> ParseWal(std::string_view bytes, const std::string& name, bool repair,
                          uint32_t max_record_bytes) {
  WalParseOptions o;
  o.repair = repair;
  o.max_record_bytes = max_record_bytes;
  return ParseWal(bytes, name, o);
}

Result<WalParse> ParseWal(std::string_view bytes, const std::string& name,
                          const WalParseOptions& options) {
  WalParse parse;
  uint64_t off = 0;
  while (off < bytes.size()) {
    const uint64_t size = ValidRecordAt(bytes, off, options.max_record_bytes);
    if (size == 0) break;
    const char* p = bytes.data() + off;
    parse.records.push_back(
        WalRecord{static_cast<uint8_t>(p[8]),
                  bytes.substr(off + kRecordHeaderBytes, size - kRecordHeaderBytes), off});
    off += size;
    parse.valid_bytes = off;
  }
  if (off == bytes.size()) return parse;

  // Damage at `off`. It is the torn tail of an unfinished last write only
  // when nothing after it checks out and it lies past what is known to be
  // durable; anything else is corruption of records that may have been
  // acknowledged.
  const std::string where = name + " at offset " + std::to_string(off);
  const std::string problem = Problem(bytes, off, options.max_record_bytes);
  const uint64_t dropped = bytes.size() - off;
  const uint64_t next_valid = FindValidRecord(bytes, off + 1, options.max_record_bytes);
  std::string why;
  if (off < options.durable_bytes) {
    why = options.durable_bytes == std::numeric_limits<uint64_t>::max()
              ? "the segment is older than the durable mark, so all of it was durable "
                "(acknowledged records are damaged)"
              : "it lies below the durable mark at offset " +
                    std::to_string(options.durable_bytes) + " (acknowledged records are damaged)";
  } else if (next_valid < bytes.size()) {
    why = "a valid record follows it at offset " + std::to_string(next_valid);
  } else {
    parse.torn_tail = true;
    parse.note = "torn tail in " + where + " (" + problem + "): " + std::to_string(dropped) +
                 " bytes truncated";
    return parse;
  }
  if (!options.repair) {
    return Status(Code::kCorruption, "corrupt record in " + where + ": " + problem + "; " + why +
                                         " (start with --repair to keep the " +
                                         std::to_string(parse.records.size()) +
                                         " records before it; the rest is kept in quarantine)");
  }
  parse.repaired = true;
  parse.note = "repair: dropped " + std::to_string(dropped) + " bytes of " + where +
               " after a corrupt record (" + problem + "; " + why + ")";
  return parse;
}

std::string EncodeDurableMark(const DurableMark& mark) {
  std::string out = "BDM1";
  Store64(out, mark.segment);
  Store64(out, mark.bytes);
  Store32(out, Crc32c(out));
  return out;
}

std::optional<DurableMark> DecodeDurableMark(std::string_view bytes) {
  if (bytes.size() != kDurableMarkBytes || bytes.substr(0, 4) != "BDM1") return std::nullopt;
  if (Crc32c(bytes.substr(0, 20)) != Load32(bytes.data() + 20)) return std::nullopt;
  return DurableMark{Load64(bytes.data() + 4), Load64(bytes.data() + 12)};
}

std::string EncodeSegmentEnd(const SegmentEnd& end) {
  std::string out;
  Store64(out, end.segment);
  Store64(out, end.bytes);
  return out;
}

std::optional<SegmentEnd> DecodeSegmentEnd(std::string_view p) {
  if (p.size() != 16) return std::nullopt;
  return SegmentEnd{Load64(p.data()), Load64(p.data() + 8)};
}

std::string WalSegmentName(uint64_t id) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "wal-%012llu.log", static_cast<unsigned long long>(id));
  return buf;
}

bool ParseWalSegmentName(std::string_view name, uint64_t* id) {
  if (name.size() != 20 || name.substr(0, 4) != "wal-" || name.substr(16) != ".log") return false;
  uint64_t v = 0;
  for (char c : name.substr(4, 12)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *id = v;
  return true;
}

}  // namespace banditd::state
