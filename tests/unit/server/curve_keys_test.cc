// Key files (src/server/curve_keys.h): the format `banditctl keygen` writes
// round-trips, and every broken input is refused with a message naming the
// file (the daemon then refuses to start: tests/integration/security_test.cc).
#include "src/server/curve_keys.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/state/test_dir.h"

namespace banditd::server {
namespace {

namespace fs = std::filesystem;
using banditd::testing::TempDir;

// A fixed valid key pair (the ZeroMQ RFC 26 test vector's client pair).
constexpr char kPublic[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
constexpr char kSecret[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

void Write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

bool Mentions(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(CurveKeysTest, CurveIsAvailable) { EXPECT_TRUE(CurveAvailable()); }

TEST(CurveKeysTest, WrittenPairLoadsBackWithModes) {
  TempDir dir;
  auto kp = GenerateKeyPair();
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  ASSERT_TRUE(WriteKeyPair(dir.path(), "app", *kp).ok());
  auto loaded = LoadSecretKeyFile(dir.path() + "/app.key");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->secret_z85, kp->secret_z85);
  EXPECT_EQ(loaded->public_z85, kp->public_z85) << "the public key is derived from the secret";
  auto pub = ReadKeyFile(dir.path() + "/app.pub");
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(*pub, kp->public_z85);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/app.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/app.pub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Never overwrites a key; refuses names that are paths.
  EXPECT_TRUE(Mentions(WriteKeyPair(dir.path(), "app", *kp), "not overwriting"));
  EXPECT_FALSE(WriteKeyPair(dir.path(), "../x", *kp).ok());
  EXPECT_FALSE(WriteKeyPair(dir.path(), ".hidden", *kp).ok());
  EXPECT_FALSE(WriteKeyPair(dir.path() + "/nope", "x", *kp).ok());
}

TEST(CurveKeysTest, DerivesThePublicKeyOfAKnownSecret) {
  TempDir dir;
  Write(dir.path() + "/c.key", std::string("# comment\n\n  ") + kSecret + "  \n");
  auto kp = LoadSecretKeyFile(dir.path() + "/c.key");
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  EXPECT_EQ(kp->public_z85, kPublic);
}

TEST(CurveKeysTest, BrokenKeyFilesAreRefused) {
  TempDir dir;
  const std::string p = dir.path() + "/k.key";
  EXPECT_TRUE(Mentions(ReadKeyFile(p).status(), "does not exist"));
  fs::create_directory(p);
  EXPECT_TRUE(Mentions(ReadKeyFile(p).status(), "not a regular file"));
  fs::remove(p);
  const std::pair<std::string, std::string> bad[] = {
      {"", "holds no key"},
      {"# only a comment\n", "holds no key"},
      {std::string(kSecret).substr(0, 39) + "\n", "not a Z85 key"},
      {std::string(kSecret) + "A\n", "not a Z85 key"},
      {std::string(kSecret).substr(0, 39) + "\"\n", "not a Z85 key"},  // '"' is not Z85
      {std::string(kSecret) + "\n" + kSecret + "\n", "more than one key"},
      {std::string(5000, '#') + "\n", "larger than 4096 bytes"},
  };
  for (const auto& [text, why] : bad) {
    Write(p, text);
    const Status s = ReadKeyFile(p).status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << text;
    EXPECT_TRUE(Mentions(s, why)) << s.ToString();
    EXPECT_TRUE(Mentions(s, p)) << "the message names the file: " << s.ToString();
    EXPECT_FALSE(LoadSecretKeyFile(p).ok());
  }
}

TEST(CurveKeysTest, AllowlistReadsEveryPubFileAndFailsClosed) {
  TempDir dir;
  const std::string d = dir.path() + "/api";
  EXPECT_TRUE(Mentions(LoadAllowlist(d).status(), "does not exist"));
  Write(d, "a file");
  EXPECT_TRUE(Mentions(LoadAllowlist(d).status(), "not a directory"));
  fs::remove(d);
  fs::create_directory(d);
  EXPECT_TRUE(Mentions(LoadAllowlist(d).status(), "holds no *.pub key"));
  // Other files do not count: still empty.
  Write(d + "/README", "keys go here\n");
  Write(d + "/app.key", std::string(kSecret) + "\n");
  Write(d + "/.old.pub", std::string(kPublic) + "\n");
  EXPECT_TRUE(Mentions(LoadAllowlist(d).status(), "holds no *.pub key"));

  Write(d + "/app.pub", std::string(kPublic) + "\n");
  auto kp = GenerateKeyPair();
  ASSERT_TRUE(kp.ok());
  Write(d + "/ops.pub", "# ops\n" + kp->public_z85 + "\n");
  auto list = LoadAllowlist(d);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  std::vector<std::string> names;
  for (const auto& [key, name] : *list) {
    names.push_back(name);
    EXPECT_EQ(Z85Of(key), name == "app" ? std::string(kPublic) : kp->public_z85);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"app", "ops"}));

  // One bad key spoils the whole list (no partial allowlist).
  Write(d + "/bad.pub", "xyz\n");
  const Status s = LoadAllowlist(d).status();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(Mentions(s, "bad.pub")) << s.ToString();
}

// A .pub that is a copy of a .key file holds a secret: the allowlist refuses
// it, naming the file, whether or not keygen's header is still there.
TEST(CurveKeysTest, AllowlistRefusesAPubFileHoldingASecretKey) {
  TempDir dir;
  auto kp = GenerateKeyPair();
  ASSERT_TRUE(kp.ok());
  const std::string keys = dir.path() + "/keys", d = dir.path() + "/api";
  fs::create_directory(keys);
  fs::create_directory(d);
  ASSERT_TRUE(WriteKeyPair(keys, "app", *kp).ok());
  fs::copy_file(keys + "/app.pub", d + "/app.pub");
  ASSERT_TRUE(LoadAllowlist(d).ok()) << "keygen's .pub is a public key";

  fs::copy_file(keys + "/app.key", d + "/leak.pub");
  Status s = LoadAllowlist(d).status();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(Mentions(s, d + "/leak.pub: holds a SECRET key")) << s.ToString();

  // Without keygen's header, the "# public key:" comment still gives it away.
  Write(d + "/leak.pub", "# public key: " + kp->public_z85 + "\n" + kp->secret_z85 + "\n");
  s = LoadAllowlist(d).status();
  EXPECT_TRUE(Mentions(s, d + "/leak.pub: holds a SECRET key")) << s.ToString();

  // A public key that names itself in its comment is fine.
  Write(d + "/leak.pub", "# public key: " + kp->public_z85 + "\n" + kp->public_z85 + "\n");
  EXPECT_TRUE(LoadAllowlist(d).ok());
}

// The server's secret key file: owner-only, like ssh's keys.
TEST(CurveKeysTest, ServerSecretKeyReadableByOthersIsRefused) {
  TempDir dir;
  auto kp = GenerateKeyPair();
  ASSERT_TRUE(kp.ok());
  ASSERT_TRUE(WriteKeyPair(dir.path(), "server", *kp).ok());
  const std::string p = dir.path() + "/server.key";
  auto loaded = LoadServerSecretKeyFile(p);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_z85, kp->public_z85);
  ASSERT_EQ(::chmod(p.c_str(), 0400), 0);
  EXPECT_TRUE(LoadServerSecretKeyFile(p).ok()) << "owner read-only is fine";
  for (const mode_t mode : {0640, 0604, 0644, 0620, 0601}) {
    SCOPED_TRACE(mode);
    ASSERT_EQ(::chmod(p.c_str(), mode), 0);
    const Status s = LoadServerSecretKeyFile(p).status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_TRUE(Mentions(s, p)) << s.ToString();
    EXPECT_TRUE(Mentions(s, "run chmod 600 " + p)) << s.ToString();
  }
  // A malformed file is reported as such whatever its mode.
  Write(p, "short\n");
  EXPECT_TRUE(Mentions(LoadServerSecretKeyFile(p).status(), "not a Z85 key"));
}

}  // namespace
}  // namespace banditd::server
