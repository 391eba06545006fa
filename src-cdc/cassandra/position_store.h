// PositionStore: the capture's durable state in a small RocksDB database: where to resume, and
// which segments were delivered but not yet deleted or moved.
//
// Why segments are identified by file, not by id order: Cassandra takes segment ids from its
// clock (max(now in ms, highest id in its commitlog dir + 1) at start), so a node whose clock
// stepped back while its commitlog dir was empty writes segments with ids below ones already
// delivered. "id below the checkpoint" therefore does not mean "delivered": the state names
// every segment it speaks of by SegmentIdentity, and a segment the state does not name is
// unread, whatever its id.
//
// What is persisted, as one JSON value under one key (so each Save is atomic), written with
// sync=true (survives kill -9 and power loss):
//   - resume: the segment and offset up to which every event was acknowledged (the end_offset
//     of the last acknowledged mutation);
//   - delivered: segments whose events were all acknowledged and that are still to be deleted
//     or moved (a crash can come between the save and the cleanup). A record is dropped once
//     its files are gone;
//   - tables: the captured tables' columns as the schema mutations read from the commit log
//     changed them (ALTER, DROP), each change with its position. The segments holding those
//     mutations are deleted once delivered, and the capture has no other source of them (it
//     reads cdc_raw only, not Cassandra's schema tables), so a restart could not learn them
//     again: kept in the same atomic write as the position they go with. Absent in states
//     saved by earlier versions (nothing learned).
// The format before this one was the bare "<segment id>:<offset>"; Load() reads it as a
// `legacy` state (resume by id only, nothing known to be delivered).
//
// Lifecycle: Open() creates the directory and database if needed; the destructor closes it.
// RocksDB allows one process per directory: a second Open of the same directory fails
// ("cassandra.state_locked"), which keeps two captures from sharing one state dir.
// Threading: not thread-safe; the capture thread owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/schema_history.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace rm::cdc::cassandra {

// One segment file in cdc_raw. The name alone is not enough (a clock stepped back can bring a
// segment id, hence a name, again); device and inode tell two files apart while they exist.
// A delivered record is dropped as soon as its file is gone, and the resume position then
// keeps the name with device and inode 0 (no file), so an inode reused later by another file
// (ext4 hands out a freed inode at once) is never mistaken for it (except across a crash in the
// instant between the cleanup and the next save, when a new segment would also have to get
// the same name).
struct SegmentIdentity {
  std::string file;  // "CommitLog-<version>-<id>.log"
  uint64_t device = 0;
  uint64_t inode = 0;

  friend bool operator==(const SegmentIdentity&, const SegmentIdentity&) = default;
  friend bool operator<(const SegmentIdentity& a, const SegmentIdentity& b) {
    return std::tie(a.file, a.device, a.inode) < std::tie(b.file, b.device, b.inode);
  }
};

// The identity of the file at `path`; an error when it cannot be stat()ed.
common::Result<SegmentIdentity> IdentifySegment(const std::filesystem::path& path);

struct CaptureState {
  struct Resume {
    // Legacy: file empty, device and inode 0; file alone: the segment's file is gone.
    SegmentIdentity segment;
    CommitLogPosition position;  // position.segment_id: the id read from the segment
  };
  struct Delivered {
    SegmentIdentity segment;
    bool bad = false;  // unreadable header: goes to <state_dir>/bad-segments

    friend bool operator==(const Delivered&, const Delivered&) = default;
  };
  // One change a schema mutation made to a captured table: from the entry after `position`,
  // the table has `shape` (schema_guard.h ShapeOf), or is gone (`dropped`, shape empty).
  struct TableChange {
    CommitLogPosition position;
    TableShape shape;
    bool dropped = false;

    friend bool operator==(const TableChange&, const TableChange&) = default;
  };
  // What the capture learned of one captured table from the commit log.
  struct LearnedTable {
    std::string id;                    // the table id the changes were read for
    TableShape configured;             // the configured CQL's shape when they were read
    TableShape before;                 // the columns the reader had before the first change
    std::vector<TableChange> changes;  // in read order

    friend bool operator==(const LearnedTable&, const LearnedTable&) = default;
  };
  std::optional<Resume> resume;
  std::vector<Delivered> delivered;
  std::map<std::string, LearnedTable> tables;  // by "keyspace.table"
  // The stopped tables' spills (spill.h) by "keyspace.table": how many bytes of each the
  // position covers (its entries before the position; the rest is read again).
  std::map<std::string, uint64_t> spills;
  // Loaded from the old "<id>:<offset>" value: `resume` names the segment by id only.
  bool legacy = false;
};

class PositionStore {
 public:
  // Errors: "cassandra.state" (cannot create or open, naming the directory and RocksDB's
  // reason), "cassandra.state_locked" (another process holds it).
  static common::Result<std::unique_ptr<PositionStore>> Open(const std::filesystem::path& dir);
  ~PositionStore();
  PositionStore(const PositionStore&) = delete;
  PositionStore& operator=(const PositionStore&) = delete;

  // The saved state; empty (no resume, nothing delivered) when none was ever saved. An
  // unreadable value is an error naming the directory.
  common::Result<CaptureState> Load() const;
  // Durably replaces the saved state (one synced write). `state.legacy` is ignored: the
  // current format is always written.
  common::Status Save(const CaptureState& state);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  PositionStore(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db);
  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace rm::cdc::cassandra
