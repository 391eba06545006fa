// Small helpers shared by every test suite: temporary directories and fixture paths.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace rm::testing {

// A fresh directory under $TMPDIR, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rm-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path SourceDir() { return RM_SOURCE_DIR; }
inline std::filesystem::path BinaryDir() { return RM_BINARY_DIR; }
inline std::filesystem::path RegionmirrorBinary() { return RM_REGIONMIRROR_BIN; }

// ../shared/fixtures beside the repository (CI clones main with shared/ next to it).
inline std::filesystem::path FixturesDir() {
  if (const char* env = std::getenv("RM_FIXTURES_DIR")) return env;
  return SourceDir().parent_path() / "shared" / "fixtures";
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace rm::testing
