// Throughput of the Cassandra commit log reader: decodes the fixture segments (plain 3.0 and
// 4.0, encrypted 3.4) from memory over and over and prints MB/s of commit log decoded.
//
// "Bytes decoded" counts the sync sections actually read (markers and entries, compressed or
// encrypted size on disk), not the zero-filled preallocated tail of the segment files.
//
// Usage: cassandra_decode_bench [fixtures dir] [seconds per directory, default 2]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/table_schema.h"

namespace {

namespace cass = rm::cdc::cassandra;

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::map<std::string, std::string> ReadProperties(const std::filesystem::path& p) {
  std::map<std::string, std::string> props;
  std::istringstream in(Slurp(p));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    props[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return props;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path fixtures = argc > 1 ? argv[1]
                                         : std::getenv("RM_FIXTURES_DIR")
                                             ? std::getenv("RM_FIXTURES_DIR")
                                             : RM_DEFAULT_FIXTURES_DIR;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  const auto root = fixtures / "cassandra";
  auto keys = cass::JceksKeyProvider::Load(root / "cassandra.keystore", "cassandra", "cassandra");
  if (!keys.ok()) {
    std::fprintf(stderr, "%s\n", keys.error().message.c_str());
    return 1;
  }

  std::vector<std::filesystem::path> dirs;
  for (const auto& e : std::filesystem::directory_iterator(root)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());

  uint64_t total_bytes = 0, total_mutations = 0;
  double total_seconds = 0;
  for (const auto& dir : dirs) {
    const auto props = ReadProperties(dir / "hash.txt");
    auto schema = cass::Schema::FromCql(
        "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, val0 blob, "
        "PRIMARY KEY (key, col)) WITH ID = " +
        props.at("cfid"));
    if (!schema.ok()) {
      std::fprintf(stderr, "%s\n", schema.error().message.c_str());
      return 1;
    }
    cass::ReaderOptions options;
    options.schema = &schema.value();
    options.keys = &keys.value();

    std::vector<std::pair<std::string, std::string>> segments;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".log") {
        segments.emplace_back(e.path().filename().string(), Slurp(e.path()));
      }
    }

    uint64_t bytes = 0, mutations = 0, cells = 0, rounds = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      for (const auto& [name, data] : segments) {
        auto p = cass::ReadSegmentBytes(name, data, options, [&](cass::Mutation&& m) {
          for (const auto& u : m.updates) {
            for (const auto& r : u.rows) cells += r.cells.size();
          }
          return cass::ReadControl::kContinue;
        });
        if (!p.ok()) {
          std::fprintf(stderr, "%s\n", p.error().message.c_str());
          return 1;
        }
        bytes += p.value().stats.section_bytes;
        mutations += p.value().stats.entries;
      }
      ++rounds;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);

    std::printf("%-18s %6.1f MB/s  %9.0f entries/s  (%lu rounds, %lu cells of Standard1)\n",
                dir.filename().c_str(), static_cast<double>(bytes) / 1e6 / elapsed,
                static_cast<double>(mutations) / elapsed, static_cast<unsigned long>(rounds),
                static_cast<unsigned long>(cells / rounds));
    total_bytes += bytes;
    total_mutations += mutations;
    total_seconds += elapsed;
  }
  std::printf("%-18s %6.1f MB/s  %9.0f entries/s\n", "all",
              static_cast<double>(total_bytes) / 1e6 / total_seconds,
              static_cast<double>(total_mutations) / total_seconds);
  return 0;
}
