#include "src/state/wal.h"

#include <cstdio>

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

Result<WalParse> ParseWal(std::string_view bytes, const std::string& name, bool repair,
                          uint32_t max_record_bytes) {
  WalParse parse;
  uint64_t off = 0;
  while (off < bytes.size()) {
    const std::string_view rest = bytes.substr(off);
    std::string problem;
    bool reaches_end = false;
    if (rest.size() < kRecordHeaderBytes) {
      problem = "incomplete record header";
      reaches_end = true;
    } else {
      const uint32_t len = Load32(rest.data());
      const uint32_t crc = Load32(rest.data() + 4);
      if (len > max_record_bytes) {
        problem = "record length " + std::to_string(len) + " is past the limit";
        reaches_end = AllZero(rest);
      } else if (kRecordHeaderBytes + len > rest.size()) {
        problem = "record runs past the end of the file";
        reaches_end = true;
      } else {
        const std::string_view type_byte = rest.substr(8, 1);
        const std::string_view payload = rest.substr(kRecordHeaderBytes, len);
        if (Crc32c(type_byte, payload) == crc && !(len == 0 && crc == 0)) {
          parse.records.push_back(WalRecord{static_cast<uint8_t>(type_byte[0]), payload, off});
          off += kRecordHeaderBytes + len;
          parse.valid_bytes = off;
          continue;
        }
        problem = "checksum mismatch";
        // A bad last record, or zeros to the end (a torn, unsynced tail).
        reaches_end = kRecordHeaderBytes + len == rest.size() || AllZero(rest);
      }
    }
    const std::string where = name + " at offset " + std::to_string(off);
    if (reaches_end) {
      parse.torn_tail = true;
      parse.note = "torn tail in " + where + " (" + problem +
                   "): " + std::to_string(bytes.size() - off) + " bytes truncated";
      return parse;
    }
    if (!repair) {
      return Status(Code::kCorruption, "corrupt record in " + where + ": " + problem +
                                           " (start with --repair to keep the " +
                                           std::to_string(parse.records.size()) +
                                           " records before it)");
    }
    parse.repaired = true;
    parse.note = "repair: dropped " + std::to_string(bytes.size() - off) + " bytes of " + where +
                 " after a corrupt record (" + problem + ")";
    return parse;
  }
  return parse;
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
