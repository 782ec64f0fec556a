// Writes the snapshot fuzz seeds (SnapshotSeeds) into a directory:
//   snapshot_fuzz_seeds tests/fuzz/snapshot_corpus
#include <cstdio>
#include <fstream>

#include "tests/fuzz/snapshot_fuzz_one.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const auto seeds = banditd::experiment::fuzz::SnapshotSeeds();
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return 1;
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[1]);
  return 0;
}
