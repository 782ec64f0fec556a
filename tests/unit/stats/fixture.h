// Reads the reference tables made by tests/stats/make_reference.py: a header
// line of column names, then comma-separated doubles, one case per line.
#pragma once

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace banditd::stats::testing {

using Row = std::map<std::string, double>;

inline std::vector<Row> LoadFixture(const std::string& name) {
  const char* root = std::getenv("BANDITD_SOURCE_DIR");
  const std::string path =
      std::string(root ? root : ".") + "/tests/stats/fixtures/" + name + ".csv";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<Row> rows;
  std::string line;
  if (!std::getline(in, line)) return rows;
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string col; std::getline(hs, col, ',');) header.push_back(col);
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    Row row;
    size_t i = 0;
    for (std::string cell; std::getline(ls, cell, ','); ++i) {
      row[header.at(i)] = std::strtod(cell.c_str(), nullptr);
    }
    EXPECT_EQ(i, header.size()) << name << ": short line " << line;
    rows.push_back(std::move(row));
  }
  return rows;
}

// The acceptance tolerance: relative error <= 1e-9 where the reference is
// >= 1e-300 in magnitude; below that, the value must be below 1e-290 too.
inline ::testing::AssertionResult Close(double actual, double expected, double rel = 1e-9) {
  if (std::fabs(expected) < 1e-300) {
    if (std::fabs(actual) < 1e-290) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << actual << " vs reference " << expected << " (< 1e-300)";
  }
  const double err = std::fabs(actual - expected) / std::fabs(expected);
  if (err <= rel) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "actual " << actual << " vs reference " << expected
                                       << ": relative error " << err << " > " << rel;
}

}  // namespace banditd::stats::testing
