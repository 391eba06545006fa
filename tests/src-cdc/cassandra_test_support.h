// Test helpers for the Cassandra commit log reader: loading the fixtures, splitting a plain
// segment into its sections, writing segments (plain or LZ4-compressed) the way Cassandra's
// CommitLogSegment lays them out, and a byte writer for hand-made mutations.
#pragma once

#include <lz4.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/table_schema.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra::testing {

inline std::filesystem::path FixtureRoot() { return rm::testing::FixturesDir() / "cassandra"; }

inline std::map<std::string, std::string> ReadHashFile(const std::filesystem::path& dir) {
  std::map<std::string, std::string> props;
  std::istringstream in(rm::testing::ReadFile(dir / "hash.txt"));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    props[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return props;
}

// The fixtures' table (CommitLogUpgradeTest's Standard1) under the id of `fixture_dir`.
inline Schema Standard1Schema(const std::string& fixture_dir) {
  const auto props = ReadHashFile(FixtureRoot() / fixture_dir);
  auto schema = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, val0 blob, "
      "PRIMARY KEY (key, col)) WITH ID = " +
      props.at("cfid"));
  return std::move(schema).value();
}

// Big-endian byte writer mirroring Java's DataOutput and Cassandra's vints.
struct ByteWriter {
  std::string bytes;

  ByteWriter& U8(uint8_t v) {
    bytes.push_back(static_cast<char>(v));
    return *this;
  }
  ByteWriter& U16(uint16_t v) {
    return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v));
  }
  ByteWriter& U32(uint32_t v) {
    return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v));
  }
  ByteWriter& U64(uint64_t v) {
    return U32(static_cast<uint32_t>(v >> 32)).U32(static_cast<uint32_t>(v));
  }
  ByteWriter& Raw(std::string_view b) {
    bytes.append(b);
    return *this;
  }
  // VIntCoding.writeUnsignedVInt.
  ByteWriter& UVInt(uint64_t v) {
    int extra = 0;
    while (extra < 8 && v >= (uint64_t{1} << (7 * (extra + 1)))) ++extra;
    if (extra == 8) {
      U8(0xff);
      return U64(v);
    }
    const uint8_t first_mask = static_cast<uint8_t>(~(0xffu >> extra));
    U8(static_cast<uint8_t>(first_mask | (v >> (8 * extra))));
    for (int i = extra - 1; i >= 0; --i) U8(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  ByteWriter& VIntBytes(std::string_view b) { return UVInt(b.size()).Raw(b); }
};

inline uint32_t Crc32Ints(std::initializer_list<uint32_t> ints, std::string_view tail = {}) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint32_t v : ints) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24),
                                static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    crc = crc32(crc, b, 4);
  }
  // crc32() with a null buffer returns its seed's initial value, so skip empty tails.
  if (!tail.empty()) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(tail.data()), static_cast<uInt>(tail.size()));
  }
  return static_cast<uint32_t>(crc);
}

// One commit log entry: size, CRC(size), mutation bytes, CRC(size, bytes).
inline std::string Entry(std::string_view mutation) {
  const auto size = static_cast<uint32_t>(mutation.size());
  ByteWriter w;
  w.U32(size).U32(Crc32Ints({size})).Raw(mutation).U32(Crc32Ints({size}, mutation));
  return w.bytes;
}

// Big-endian uint32 at `at` of a segment's bytes.
inline uint32_t LoadU32(const std::string& file, size_t at) {
  return (uint32_t{static_cast<uint8_t>(file[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(file[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(file[at + 2])} << 8) | static_cast<uint8_t>(file[at + 3]);
}

// Where a plain segment's first sync marker is: after the descriptor (18 bytes and the
// parameters' JSON, whose length is at offset 12).
inline size_t FirstSyncMarker(const std::string& file) {
  return 18 + ((static_cast<uint8_t>(file[12]) << 8) | static_cast<uint8_t>(file[13]));
}

// Stores a big-endian uint32 at `at` of a segment's bytes.
inline void StoreU32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

// `bytes` (a plain or compressed segment) as segment `id`: the id in the header, and the CRCs
// that cover it (the header's and every sync marker's), redone. Name it
// CommitLog-<version>-<id>.log: a new segment, as Cassandra would write it.
inline std::string WithSegmentId(std::string bytes, int64_t id) {
  const auto lo = static_cast<uint32_t>(id), hi = static_cast<uint32_t>(id >> 32);
  StoreU32(bytes, 4, hi);
  StoreU32(bytes, 8, lo);
  const uint32_t version = LoadU32(bytes, 0);
  const size_t params_length =
      (static_cast<uint8_t>(bytes[12]) << 8) | static_cast<uint8_t>(bytes[13]);
  StoreU32(bytes, 14 + params_length,
           Crc32Ints({version, lo, hi, static_cast<uint32_t>(params_length)},
                     std::string_view(bytes).substr(14, params_length)));
  for (size_t pos = FirstSyncMarker(bytes); pos + 8 <= bytes.size();) {
    const uint32_t next = LoadU32(bytes, pos);
    if (next == 0 || next <= pos || next > bytes.size()) break;
    StoreU32(bytes, pos + 4, Crc32Ints({lo, hi, static_cast<uint32_t>(pos)}));
    pos = next;
  }
  return bytes;
}

// The raw contents (entries, possibly followed by zero padding) of each sync section of a
// plain segment, in order.
inline std::vector<std::string> PlainSections(const std::string& file) {
  std::vector<std::string> sections;
  const auto load = [&](size_t at) { return LoadU32(file, at); };
  size_t pos = FirstSyncMarker(file);
  while (pos + 8 <= file.size()) {
    const uint32_t next = load(pos);
    if (next == 0 && load(pos + 4) == 0) break;
    sections.push_back(file.substr(pos + 8, next - pos - 8));
    pos = next;
  }
  return sections;
}

// Cassandra's LZ4Compressor output: little-endian length, LZ4 block.
inline std::string Lz4Compress(std::string_view in) {
  std::string out(4 + static_cast<size_t>(LZ4_compressBound(static_cast<int>(in.size()))), '\0');
  const auto n = static_cast<uint32_t>(in.size());
  out[0] = static_cast<char>(n);
  out[1] = static_cast<char>(n >> 8);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 24);
  const int c = LZ4_compress_default(in.data(), out.data() + 4, static_cast<int>(in.size()),
                                     static_cast<int>(out.size() - 4));
  out.resize(4 + static_cast<size_t>(c));
  return out;
}

// Writes a segment as Cassandra does: header, then per section a sync marker (offset of the
// next marker, CRC over id and own offset) and the section (plain, or length + LZ4 chunk),
// then `zero_tail` zero bytes (preallocated space).
inline std::string BuildSegment(int version, int64_t id, const std::vector<std::string>& sections,
                                bool compressed = false, size_t zero_tail = 64,
                                std::string params = "") {
  if (params.empty()) {
    params =
        compressed ? R"({"compressionClass":"LZ4Compressor","compressionParameters":{}})" : "{}";
  }
  const auto uid = static_cast<uint64_t>(id);
  const auto lo = static_cast<uint32_t>(uid & 0xffffffffu);
  const auto hi = static_cast<uint32_t>(uid >> 32);
  ByteWriter w;
  w.U32(static_cast<uint32_t>(version)).U64(uid).U16(static_cast<uint16_t>(params.size()));
  w.Raw(params);
  w.U32(Crc32Ints({static_cast<uint32_t>(version), lo, hi, static_cast<uint32_t>(params.size())},
                  params));
  for (const auto& section : sections) {
    const std::string body =
        compressed ? [&] {
          ByteWriter b;
          b.U32(static_cast<uint32_t>(section.size())).Raw(Lz4Compress(section));
          return b.bytes;
        }()
                   : section;
    const auto at = static_cast<uint32_t>(w.bytes.size());
    w.U32(at + 8 + static_cast<uint32_t>(body.size())).U32(Crc32Ints({lo, hi, at})).Raw(body);
  }
  w.bytes.append(zero_tail, '\0');
  return w.bytes;
}

// Reads everything and returns the mutations.
inline std::vector<Mutation> ReadAllMutations(std::string_view bytes, const ReaderOptions& options,
                                              ReadProgress* progress = nullptr,
                                              std::string name = "CommitLog-test.log") {
  std::vector<Mutation> out;
  auto p = ReadSegmentBytes(std::move(name), bytes, options, [&](Mutation&& m) {
    out.push_back(std::move(m));
    return ReadControl::kContinue;
  });
  if (progress != nullptr && p.ok()) *progress = std::move(p).value();
  return out;
}

inline std::vector<CommitLogPosition> Positions(const std::vector<Mutation>& ms) {
  std::vector<CommitLogPosition> out;
  for (const auto& m : ms) out.push_back(m.position);
  return out;
}

// Every cell value of every row, in order: a content fingerprint independent of positions.
inline std::vector<std::string> CellValues(const std::vector<Mutation>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) {
    for (const auto& u : m.updates) {
      for (const auto& r : u.rows) {
        for (const auto& c : r.cells) out.push_back(c.value);
      }
    }
  }
  return out;
}

inline bool AnyErrorContains(const ReadProgress& p, std::string_view needle) {
  return std::any_of(p.errors.begin(), p.errors.end(), [&](const common::Error& e) {
    return e.message.find(needle) != std::string::npos;
  });
}

}  // namespace rm::cdc::cassandra::testing
