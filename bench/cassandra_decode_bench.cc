// Throughput of the Cassandra commit log reader: decodes the fixture segments (plain 3.0 and
// 4.0, encrypted + LZ4 3.4) from memory over and over and prints MB/s of commit log decoded,
// then the plain and encrypted totals and their ratio.
//
// "Bytes decoded" counts the sync sections actually read (markers and entries, compressed or
// encrypted size on disk), not the zero-filled preallocated tail of the segment files.
// Each round opens a new reader per segment, as the capture does. Figures are given per second
// of wall time and per second of this process's CPU time: on a shared machine the CPU figure
// is the stable one (the wall figure drops when other processes take the cores).
//
// Usage: cassandra_decode_bench [fixtures dir] [seconds per directory, default 2]
#include <time.h>

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
#include "src-cdc/cassandra/segment_descriptor.h"
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

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Totals {
  uint64_t bytes = 0;
  uint64_t entries = 0;
  double wall = 0;
  double cpu = 0;

  void Print(const char* label) const {
    std::printf("%-18s %7.1f MB/s %7.1f MB/s CPU  %9.0f entries/s\n", label,
                static_cast<double>(bytes) / 1e6 / wall, static_cast<double>(bytes) / 1e6 / cpu,
                static_cast<double>(entries) / wall);
  }
};

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

  Totals all, plain, encrypted;
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
    bool is_encrypted = false;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = CpuSeconds();
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
        if (rounds == 0) {
          auto desc = cass::ParseSegmentDescriptor(data, name);
          is_encrypted =
              is_encrypted || (desc.ok() && desc->encoding == cass::SegmentEncoding::kEncrypted);
        }
        mutations += p.value().stats.entries;
      }
      ++rounds;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < seconds);

    const Totals one{bytes, mutations, elapsed, CpuSeconds() - cpu_start};
    one.Print(dir.filename().c_str());
    std::printf("%-18s (%s, %lu rounds, %lu cells of Standard1)\n", "",
                is_encrypted ? "encrypted" : "plain", static_cast<unsigned long>(rounds),
                static_cast<unsigned long>(cells / rounds));
    for (Totals* t : {&all, is_encrypted ? &encrypted : &plain}) {
      t->bytes += one.bytes;
      t->entries += one.entries;
      t->wall += one.wall;
      t->cpu += one.cpu;
    }
  }
  all.Print("all");
  if (plain.bytes > 0 && encrypted.bytes > 0) {
    plain.Print("plain");
    encrypted.Print("encrypted");
    std::printf("encrypted/plain    %7.2f (CPU MB/s ratio)\n",
                (static_cast<double>(encrypted.bytes) / encrypted.cpu) /
                    (static_cast<double>(plain.bytes) / plain.cpu));
  }
  return 0;
}
