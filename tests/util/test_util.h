// Small helpers shared by every test suite: temporary directories and fixture paths.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace rm::testing {

// A fresh directory under $TMPDIR, removed with everything in it when the object dies.
// Polls `pred` every 5 ms until it holds or `timeout` passes; true when it held. For conditions
// only observable by polling (a process's output, a broker's state), never as a sleep.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

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
