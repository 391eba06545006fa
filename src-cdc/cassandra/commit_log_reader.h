// Reads Cassandra commit log segments (formats 6 and 7: Cassandra 3.x and 4.x), plain, LZ4
// compressed or encrypted, and hands each mutation of the tables in a Schema to a handler.
//
// Segment layout (CommitLogDescriptor, CommitLogSegment, CommitLogReader):
//
//   [header: version, id, params JSON, CRC]
//   [sync marker: next-marker offset, CRC] [section: entries ...]      <- one sync section
//   [sync marker] [section] ...                                         (zeros after the last)
//   entry = [int size][int CRC(size)][mutation bytes][int CRC(size, bytes)]
//
// Compressed and encrypted segments hold, after each marker, the section's uncompressed length
// and the compressed (or encrypted blocks of compressed) entries.
//
// Positions. Every entry has a CommitLogPosition (segment id, logical offset). For plain
// segments the offset is the file offset; for compressed/encrypted ones it is the offset in the
// uncompressed layout, as in Cassandra (and as `_cdc.idx` reports it). Mutation::position is
// where the entry starts, Mutation::end_offset where the next one starts.
//
// Reading a finished segment:
//
//   auto progress = ReadSegmentFile(path, options, [&](Mutation&& m) {
//     Emit(m);
//     return ReadControl::kContinue;
//   });
//
// Tailing a segment that Cassandra is still writing (cdc_raw/CommitLog-7-<id>.log with its
// CommitLog-7-<id>_cdc.idx) — the intended use by the capture process:
//
//   auto reader = SegmentReader::Open(log_path, options, saved_offset);  // 0 = from the start
//   while (true) {
//     auto idx = ReadCdcIndexFile(idx_path);          // durable offset, COMPLETED flag
//     auto p = reader.value()->ReadUpTo(idx->offset, handler);
//     // ... once Kafka acknowledged the emitted mutations, persist reader->position()
//     // (or the end_offset of the last acknowledged mutation) as the resume point.
//     if (idx->completed && p->stop != StopReason::kStoppedByHandler &&
//         reader.value()->position().offset >= idx->offset) break;  // segment done
//     wait for the idx file to change;
//   }
//
// ReadUpTo only decodes sections that end at or before the readable limit, so a section still
// being written is never read half-way; it picks up where the previous call stopped. After a
// restart, open with the saved offset: the reader walks the sync markers (8 bytes per section,
// nothing decoded) to the section holding it and delivers only entries starting at or after it.
//
// Errors. Problems in the data are values, never exceptions or crashes: an unreadable header is
// an error Result from Open; everything after the header is tolerated where Cassandra's own
// reader tolerates it and reported in ReadProgress::errors, each naming the file, the section
// (file offset of its sync marker) and the offset of the entry:
//   - sync marker with a bad CRC (not the all-zero end marker) or pointing backwards: stop
//     reading the segment (StopReason::kCorruptSyncMarker), as Cassandra's replay does;
//   - marker pointing past the end of a truncated file: read what is there, report, stop;
//   - section that fails to decompress or decrypt: report, skip the section, go on;
//   - entry size < 10, size CRC mismatch, or entry running past the section: report, skip the
//     rest of the section, go on with the next;
//   - mutation CRC mismatch or undecodable mutation: report, skip the entry, go on;
//   - entry of a table not in the Schema: skip it (counted, not an error);
//   - entry size 0 (the zero padding after the last entry): the segment has ended.
// I/O errors (the file cannot be read) are error Results.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/cassandra/segment_descriptor.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {

enum class ReadControl { kContinue, kStop };

// Receives each decoded mutation, in commit log order. Returning kStop ends the current read
// right after this mutation (back-pressure); the next read continues with the following entry.
using MutationHandler = std::function<ReadControl(Mutation&&)>;

struct ReaderOptions {
  // Tables to decode; entries of other tables are skipped. Required. Not owned: it must outlive
  // the reader and every Mutation it produced (they point into it).
  const Schema* schema = nullptr;
  // Keys for encrypted segments. Not owned. Default: none (encrypted segments fail to open).
  const KeyProvider* keys = nullptr;
  // Errors kept in one ReadProgress; further ones are only counted. Default: 100.
  size_t max_errors = 100;
  // Largest section (uncompressed bytes) the reader will allocate for. The uncompressed length
  // is not checksummed, so this bounds memory on corrupt data. Default: 256 MiB (Cassandra's
  // default segment is 32 MiB; segments cannot exceed 2 GiB).
  uint32_t max_section_bytes = 256u << 20;
};

// Why a read returned.
enum class StopReason {
  // An all-zero sync marker, no room for another marker, or the zero padding after the last
  // entry. For a finished segment this is the end; for a live segment an unsynced marker reads
  // as zeros too, so a later read may find more (use `_cdc.idx` to know).
  kEndOfSegment,
  // The next section ends beyond the readable limit given to ReadUpTo.
  kReadableLimit,
  // The handler returned kStop.
  kStoppedByHandler,
  // A sync marker failed its checksum or points backwards: nothing after it can be located.
  kCorruptSyncMarker,
};
const char* ToString(StopReason reason);

struct ReadStats {
  uint64_t sections = 0;               // sync sections read
  uint64_t section_bytes = 0;          // file bytes of those sections, markers included
  uint64_t entries = 0;                // entries whose checksums matched
  uint64_t mutations = 0;              // mutations handed to the handler
  uint64_t skipped_unknown_table = 0;  // entries of tables not in the schema
  uint64_t skipped_before_resume = 0;  // entries before the resume offset
  uint64_t corrupt_entries = 0;        // entries dropped for a checksum or decoding error
  uint64_t skipped_sections = 0;       // sections (or their rest) abandoned after an error
};

struct ReadProgress {
  StopReason stop = StopReason::kEndOfSegment;
  ReadStats stats;
  // Tolerated problems, in file order (codes "cassandra.sync_marker", "cassandra.section",
  // "cassandra.entry", "cassandra.decode"); at most ReaderOptions::max_errors.
  std::vector<common::Error> errors;
  uint64_t errors_dropped = 0;
  CommitLogPosition position;  // SegmentReader::position() after this read
};

// Reads one segment, possibly in several calls while it grows. Owns its file descriptor (or
// borrows the bytes given to OpenBytes). Not thread-safe: one thread reads a segment; several
// readers on different segments may share the Schema and KeyProvider.
class SegmentReader {
 public:
  static constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

  // Opens `file` and reads its header. `resume_offset` (logical, see above) skips every entry
  // that starts before it; 0 reads from the first entry. Fails (code "cassandra.header",
  // "cassandra.io", "cassandra.key", "cassandra.config") when the header is unreadable, the
  // compressor or cipher is unsupported, or the key is missing.
  static common::Result<std::unique_ptr<SegmentReader>> Open(const std::filesystem::path& file,
                                                             const ReaderOptions& options,
                                                             uint32_t resume_offset = 0);
  // Same over bytes in memory (tests, fuzzing). `bytes` must outlive the reader; `name` is used
  // in messages and, like a file name, may carry the segment id.
  static common::Result<std::unique_ptr<SegmentReader>> OpenBytes(std::string name,
                                                                  std::string_view bytes,
                                                                  const ReaderOptions& options,
                                                                  uint32_t resume_offset = 0);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  const SegmentDescriptor& descriptor() const;
  const std::string& name() const;

  // Decodes the complete sections whose (logical) end is at or before `readable_limit`, from
  // where the previous call stopped. An error Result only for I/O failures.
  common::Result<ReadProgress> ReadUpTo(uint64_t readable_limit, const MutationHandler& handler);
  common::Result<ReadProgress> ReadAll(const MutationHandler& handler) {
    return ReadUpTo(kNoLimit, handler);
  }

  // Resume point: every entry before it was delivered or deliberately skipped.
  CommitLogPosition position() const;
  // True once the segment's end was found (zero padding after the last entry, or a corrupt
  // marker): further reads return at once.
  bool finished() const;

 private:
  class Impl;
  explicit SegmentReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whole-segment conveniences: Open/OpenBytes then ReadAll.
common::Result<ReadProgress> ReadSegmentFile(const std::filesystem::path& file,
                                             const ReaderOptions& options,
                                             const MutationHandler& handler);
common::Result<ReadProgress> ReadSegmentBytes(std::string name, std::string_view bytes,
                                              const ReaderOptions& options,
                                              const MutationHandler& handler);

// The `_cdc.idx` file Cassandra 4 writes beside each CDC segment: the offset up to which the
// segment is durable, and "COMPLETED" once the segment will not grow any more.
struct CdcIndex {
  uint64_t offset = 0;
  bool completed = false;
};
common::Result<CdcIndex> ParseCdcIndex(std::string_view content);
common::Result<CdcIndex> ReadCdcIndexFile(const std::filesystem::path& file);

}  // namespace rm::cdc::cassandra
