#include "offsets/offset_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>

#include <cstdlib>
#include <system_error>
#include <vector>

#include "common/log.h"
#include "offsets/detail/key_codec.h"
#include "offsets/detail/rocksdb_handles.h"
#include "offsets/detail/rocksdb_status.h"

namespace rm::offsets {
namespace {

constexpr const char* kRunsCf = "runs";
constexpr const char* kCheckpointsCf = "checkpoints";
constexpr const char* kStateCf = "state";

bool Lz4Supported() {
  for (auto type : rocksdb::GetSupportedCompressions()) {
    if (type == rocksdb::kLZ4Compression) return true;
  }
  return false;
}

rocksdb::ColumnFamilyOptions CfOptions(const OffsetStoreOptions& options,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_size;
  cf.compression =
      options.compress && Lz4Supported() ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// RocksDB reports a directory held by another process (or another handle in this one) as an
// IOError about its LOCK file. Say so in words an operator acts on.
common::Error OpenError(const std::filesystem::path& dir, const rocksdb::Status& s) {
  const std::string text = s.ToString();
  if (s.IsIOError() &&
      (text.find("lock") != std::string::npos || text.find("LOCK") != std::string::npos)) {
    return common::Error{"offsets.locked",
                         "offsets store at " + dir.string() +
                             " is locked by another process (a running `regionmirror run` or "
                             "`offsets rebuild` on this directory?): " +
                             text};
  }
  return detail::RocksError("open offsets store at " + dir.string(), s);
}

common::Result<std::filesystem::path> MakeSecondaryDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "rm-offsets-secondary-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return common::Error{"offsets.io",
                         "cannot create a temporary directory for a secondary "
                         "offsets store under " +
                             std::filesystem::temp_directory_path().string()};
  }
  return std::filesystem::path(tmpl);
}

}  // namespace

common::Result<std::unique_ptr<OffsetStore>> OffsetStore::Open(const std::filesystem::path& dir,
                                                               const OffsetStoreOptions& options) {
  std::unique_ptr<OffsetStore> store(new OffsetStore());
  store->dir_ = dir;

  auto cache = rocksdb::NewLRUCache(options.block_cache_size);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  // The offsets store is small; a couple of background threads are plenty and keep it from
  // competing with the mirror for cores.
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  const auto cf_options = CfOptions(options, cache);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {kRunsCf, cf_options},
      {kCheckpointsCf, cf_options},
      {kStateCf, cf_options},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.secondary) {
    if (!std::filesystem::exists(dir / "CURRENT")) {
      return common::Error{"offsets.not_found", "no offsets store at " + dir.string()};
    }
    store->secondary_ = true;
    std::filesystem::path secondary_dir = options.secondary_dir;
    if (secondary_dir.empty()) {
      auto made = MakeSecondaryDir();
      if (!made.ok()) return made.error();
      secondary_dir = *made;
      store->owned_secondary_dir_ = secondary_dir;
    }
    // A secondary keeps every file open: the primary may delete SST files it still reads.
    db_options.max_open_files = -1;
    db_options.create_if_missing = false;
    db_options.create_missing_column_families = false;
    s = rocksdb::DB::OpenAsSecondary(db_options, dir.string(), secondary_dir.string(), descriptors,
                                     &handles, &raw);
  } else {
    s = rocksdb::DB::Open(db_options, dir.string(), descriptors, &handles, &raw);
  }
  if (!s.ok()) return OpenError(dir, s);
  auto& rocks = *store->rocks_;
  rocks.owned_db.reset(raw);
  rocks.default_cf = handles[0];
  rocks.runs = handles[1];
  rocks.checkpoints = handles[2];
  rocks.state = handles[3];

  std::string format;
  auto get = rocks.db()->Get(rocksdb::ReadOptions(), rocks.state, std::string(detail::kFormatKey),
                             &format);
  if (get.IsNotFound() && store->secondary_) {
    return common::Error{"offsets.format", "offsets store at " + dir.string() +
                                               " has no format version (not an offsets store?)"};
  } else if (get.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto put = rocks.db()->Put(wo, rocks.state, std::string(detail::kFormatKey),
                               std::string(detail::kFormatVersion));
    if (!put.ok()) return detail::RocksError("write format version in " + dir.string(), put);
  } else if (!get.ok()) {
    return detail::RocksError("read format version in " + dir.string(), get);
  } else if (format != detail::kFormatVersion) {
    return common::Error{"offsets.format",
                         "offsets store at " + dir.string() + " has format version '" + format +
                             "', this build reads version " + std::string(detail::kFormatVersion)};
  }
  return store;
}

OffsetStore::OffsetStore() : rocks_(std::make_unique<detail::RocksHandles>()) {}

OffsetStore::~OffsetStore() {
  Close();
  if (!owned_secondary_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(owned_secondary_dir_, ec);
  }
}

void OffsetStore::Close() {
  auto& db = rocks_->owned_db;
  if (!db) return;
  for (auto* handle : {rocks_->default_cf, rocks_->runs, rocks_->checkpoints, rocks_->state}) {
    if (handle == nullptr) continue;
    auto s = db->DestroyColumnFamilyHandle(handle);
    if (!s.ok()) RM_LOG_WARN("offsets: closing column family: {}", s.ToString());
  }
  auto s = db->Close();
  if (!s.ok()) RM_LOG_WARN("offsets: closing store at {}: {}", dir_.string(), s.ToString());
  db.reset();
}

common::Status OffsetStore::CatchUp() {
  if (!secondary_) return common::Status::Ok();
  return detail::ToStatus("catch up with the primary offsets store at " + dir_.string(),
                          rocks_->db()->TryCatchUpWithPrimary());
}

common::Status OffsetStore::CompactAll() {
  rocksdb::DB* db = rocks_->db();
  for (auto* cf : {rocks_->runs, rocks_->checkpoints, rocks_->state}) {
    auto s = db->Flush(rocksdb::FlushOptions(), cf);
    if (!s.ok()) return detail::RocksError("flush", s);
    rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    s = db->CompactRange(cro, cf, nullptr, nullptr);
    if (!s.ok()) return detail::RocksError("compact", s);
  }
  return common::Status::Ok();
}

common::Result<uint64_t> OffsetStore::DiskSize() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = entry.path().filename().string();
    const bool counted = name.ends_with(".sst") || name.ends_with(".log");
    if (!counted) continue;
    const auto size = entry.file_size(ec);
    if (ec) break;
    total += size;
  }
  if (ec) {
    return common::Error{"offsets.io", "size of " + dir_.string() + ": " + ec.message()};
  }
  return total;
}

common::Result<uint64_t> OffsetStore::RunsLiveDataSize() const {
  uint64_t size = 0;
  if (!rocks_->db()->GetIntProperty(rocks_->runs, rocksdb::DB::Properties::kEstimateLiveDataSize,
                                    &size)) {
    return common::Error{"offsets.rocksdb", "property estimate-live-data-size unavailable"};
  }
  return size;
}

}  // namespace rm::offsets
