// OffsetStore: the RocksDB database behind the offsets module, with its three column families.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"

namespace rm::offsets {

namespace detail {
struct RocksHandles;  // offsets/detail/rocksdb_handles.h
}  // namespace detail

struct OffsetStoreOptions {
  // Create the database and its column families when the directory holds none.
  // Default: true.
  bool create_if_missing = true;
  // Size of one memtable per column family, in bytes. The runs of a busy mirror are a few
  // hundred bytes per second, so a small buffer keeps memory low.
  // Default: 8 MiB.
  uint64_t write_buffer_size = 8u << 20;
  // Compress SST files with LZ4 when the RocksDB build supports it (the runs of neighbouring
  // partitions share long key prefixes and compress well).
  // Default: true.
  bool compress = true;
  // Size of the shared block cache for reads (translations, dumps), in bytes.
  // Default: 16 MiB.
  uint64_t block_cache_size = 16u << 20;
  // Open as a RocksDB secondary instance: read-only, and allowed while another process (a
  // running mirror) holds the directory. It sees what the primary had made durable when Open()
  // returned; CatchUp() brings it forward. Writes through a secondary store fail. Used by the
  // `regionmirror offsets` CLI. Default: false
  bool secondary = false;
  // Where a secondary instance keeps its own info log (RocksDB needs a writable directory of its
  // own). Empty: a fresh directory under the system temp directory, removed on close.
  // Default: ""
  std::filesystem::path secondary_dir;
};

// Owns the RocksDB handle and the column families `runs` (the offset map), `checkpoints`
// (consumer group checkpoints) and `state` (format version, prune floors).
//
// Lifecycle: Open() creates or opens the directory and checks the stored format version; the
// destructor closes the database (no flush needed: durability comes from the WAL, synced by
// OffsetMap::Checkpoint and CheckpointStore::Put with sync). RocksDB allows one process per
// directory: a second Open of the same path fails with "offsets.locked" (the message names the
// directory and says another process holds it). Secondary instances (options.secondary) are the
// exception: any number may read while one primary writes.
// Threading: all methods are safe to call from any thread; OffsetMap and CheckpointStore
// built over one store share it. The store must outlive them.
class OffsetStore {
 public:
  static common::Result<std::unique_ptr<OffsetStore>> Open(const std::filesystem::path& dir,
                                                           const OffsetStoreOptions& options = {});
  ~OffsetStore();
  OffsetStore(const OffsetStore&) = delete;
  OffsetStore& operator=(const OffsetStore&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  bool secondary() const { return secondary_; }

  // Secondary instance only: reads what the primary made durable since Open() or the last
  // CatchUp(). A no-op for a primary.
  common::Status CatchUp();

  // Flushes memtables and compacts every column family to its final size (admin, benchmark).
  common::Status CompactAll();
  // Bytes of SST files plus WAL under dir() (what `du` would count for the database).
  common::Result<uint64_t> DiskSize() const;
  // RocksDB's estimate of live data in the runs column family, in bytes.
  common::Result<uint64_t> RunsLiveDataSize() const;

  // The database, for the offsets module's own classes (defined in detail/).
  detail::RocksHandles& rocks() const { return *rocks_; }

 private:
  OffsetStore();
  void Close();

  std::filesystem::path dir_;
  bool secondary_ = false;
  std::filesystem::path owned_secondary_dir_;  // removed on close when we created it
  std::unique_ptr<detail::RocksHandles> rocks_;
};

}  // namespace rm::offsets
