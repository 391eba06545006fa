// The open RocksDB database behind an OffsetStore and its column families. Private to the
// offsets module: its public headers name no RocksDB type, so nothing outside offsets/ can
// reach the database around OffsetMap and CheckpointStore.
#pragma once

#include <rocksdb/db.h>

#include <memory>

namespace rm::offsets::detail {

struct RocksHandles {
  std::unique_ptr<rocksdb::DB> owned_db;
  rocksdb::ColumnFamilyHandle* default_cf = nullptr;
  rocksdb::ColumnFamilyHandle* runs = nullptr;         // the offset map
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;  // consumer group checkpoints
  rocksdb::ColumnFamilyHandle* state = nullptr;        // format version, prune floors

  rocksdb::DB* db() const { return owned_db.get(); }
};

}  // namespace rm::offsets::detail
