// TableSpill: the durable copy of a stopped table's commit log entries, so the capture's
// checkpoint can move on (and segments be deleted) while one table waits for an operator to
// accept its shape (capture.h, "An incompatible change" in the README).
//
// File <state_dir>/spill/<keyspace>.<table>.spill:
//   "RMSPILL1"                                      8 bytes, once
//   frame*  = u32 length | u32 crc | payload         big-endian; crc = CRC32 (zlib's) of the
//                                                    four length bytes and the payload
//   payload = 'H' JSON {table, id, stop_segment_id, stop_offset, shape}   first frame only
//           | 'S' JSON [{id, keyspace, name, shape}]  the columns the entries after it decode
//                                                    with (the captured tables of the keyspace)
//           | 'E' i64 segment id | u32 offset | u32 end offset | u32 messaging version |
//             u16 file name length | file name | the entry's serialized bytes
// A frame is appended whole with write(2) and made durable by Sync() (fdatasync); the capture
// syncs before the checkpoint may pass the entries, and saves with its checkpoint how many
// bytes of the spill it covers (PositionStore). So:
//   - bytes past the covered length were read after the checkpoint and are read again from the
//     segments after a restart: Open() truncates them, whatever they hold (a torn tail of a
//     crash mid-append is one such case);
//   - a frame within the covered length that does not check (CRC, length, kind) is corruption:
//     Open() and Replay() fail naming the file and the frame's offset, never skip it.
//
// Lifecycle: Create() when a table stops (or Open() the one a restart finds in the state),
// Append*() from the capture's thread, Sync() before each checkpoint, Replay() once the shape
// is accepted, then Remove() after the replayed events were acknowledged and the state no
// longer names the spill. Not thread-safe; owns its file descriptor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc::cassandra {

struct SpillHeader {
  std::string table;       // "keyspace.table"
  std::string table_id;    // its id (uuid text)
  CommitLogPosition stop;  // where the table stopped: the spilled entries come after it
  TableShape shape;        // the shape waiting to be accepted (the one its entries decode with)
};

// One table of a schema frame.
struct SpillTable {
  std::string id;
  std::string keyspace;
  std::string name;
  TableShape shape;
};

struct SpillEntry {
  CommitLogPosition position;
  uint32_t end_offset = 0;
  int messaging_version = 0;
  std::string file;  // the segment's file name (the events' source.file)
  std::string_view bytes;
};

class TableSpill {
 public:
  // The file name for `table` ("keyspace.table") in `dir`.
  static std::filesystem::path PathFor(const std::filesystem::path& dir, const std::string& table);

  // A new spill holding only `header` (an existing file is replaced), synced with its
  // directory. Errors: "cassandra.spill".
  static common::Result<std::unique_ptr<TableSpill>> Create(const std::filesystem::path& path,
                                                            const SpillHeader& header);
  // The spill a restart finds: checks every frame of its first `covered` bytes and truncates
  // what follows (synced). Errors ("cassandra.spill") name the file and the offset of a frame
  // that does not check, or a file shorter than `covered`.
  static common::Result<std::unique_ptr<TableSpill>> Open(const std::filesystem::path& path,
                                                          uint64_t covered);
  ~TableSpill();
  TableSpill(const TableSpill&) = delete;
  TableSpill& operator=(const TableSpill&) = delete;

  common::Status AppendSchema(const std::vector<SpillTable>& tables);
  common::Status AppendEntry(const SpillEntry& entry);
  // Makes every appended frame durable.
  common::Status Sync();

  const SpillHeader& header() const { return header_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Bytes a frame holding `entry` takes (to keep a spill under its limit).
  static uint64_t FrameSize(const SpillEntry& entry);

  struct Visitor {
    std::function<common::Status(const std::vector<SpillTable>&)> schema;
    std::function<common::Status(const SpillEntry&)> entry;
  };
  // Visits the frames of the first `limit` bytes in order (the header is returned by Open).
  // Stops at the first error a visitor returns, or at a frame that does not check.
  static common::Status Replay(const std::filesystem::path& path, uint64_t limit,
                               const Visitor& visitor);
  // Deletes the file (a missing one is fine) and syncs its directory.
  static common::Status Remove(const std::filesystem::path& path);

 private:
  TableSpill(std::filesystem::path path, int fd, SpillHeader header, uint64_t size);
  common::Status AppendFrame(char kind, std::string_view body);

  std::filesystem::path path_;
  int fd_ = -1;
  SpillHeader header_;
  uint64_t size_ = 0;
};

}  // namespace rm::cdc::cassandra
