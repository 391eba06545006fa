// PositionStore: the capture's resume point, (segment id, offset), in a small RocksDB database.
//
// What is persisted: one key, the position up to which every event was acknowledged by the
// sink (the end_offset of the last acknowledged mutation). Segments with a smaller id are fully
// delivered. Save() writes with sync=true, so a saved position survives kill -9 and power loss;
// the capture calls it only at checkpoints (about once a second and before deleting a segment).
//
// Lifecycle: Open() creates the directory and database if needed; the destructor closes it.
// RocksDB allows one process per directory: a second Open of the same directory fails
// ("cassandra.state_locked"), which keeps two captures from sharing one state dir.
// Threading: not thread-safe; the capture thread owns it.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace rm::cdc::cassandra {

class PositionStore {
 public:
  // Errors: "cassandra.state" (cannot create or open, naming the directory and RocksDB's
  // reason), "cassandra.state_locked" (another process holds it).
  static common::Result<std::unique_ptr<PositionStore>> Open(const std::filesystem::path& dir);
  ~PositionStore();
  PositionStore(const PositionStore&) = delete;
  PositionStore& operator=(const PositionStore&) = delete;

  // The saved position; nullopt when none was ever saved. An unreadable value is an error.
  common::Result<std::optional<CommitLogPosition>> Load() const;
  // Durably replaces the saved position (synced write).
  common::Status Save(CommitLogPosition position);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  PositionStore(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db);
  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace rm::cdc::cassandra
