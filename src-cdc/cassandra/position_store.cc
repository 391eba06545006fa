#include "src-cdc/cassandra/position_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <charconv>
#include <string>

namespace rm::cdc::cassandra {
namespace {

constexpr const char* kPositionKey = "cassandra.position";

}  // namespace

PositionStore::PositionStore(std::filesystem::path dir, std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

PositionStore::~PositionStore() = default;

common::Result<std::unique_ptr<PositionStore>> PositionStore::Open(
    const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return common::Error{"cassandra.state", fmt::format("state dir {}: cannot create: {}",
                                                        dir.string(), ec.message())};
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 1 << 20;  // one small key
  options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!s.ok()) {
    const bool locked = s.IsIOError() && s.ToString().find("lock") != std::string::npos;
    return common::Error{
        locked ? "cassandra.state_locked" : "cassandra.state",
        locked
            ? fmt::format("state dir {}: held by another process ({})", dir.string(), s.ToString())
            : fmt::format("state dir {}: cannot open RocksDB: {}", dir.string(), s.ToString())};
  }
  return std::unique_ptr<PositionStore>(new PositionStore(dir, std::unique_ptr<rocksdb::DB>(raw)));
}

common::Result<std::optional<CommitLogPosition>> PositionStore::Load() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kPositionKey, &value);
  if (s.IsNotFound()) return std::optional<CommitLogPosition>();
  if (!s.ok()) {
    return common::Error{
        "cassandra.state",
        fmt::format("state dir {}: cannot read the position: {}", dir_.string(), s.ToString())};
  }
  // "<segment id>:<offset>"
  CommitLogPosition p;
  const auto colon = value.find(':');
  const char* end = value.data() + value.size();
  if (colon == std::string::npos ||
      std::from_chars(value.data(), value.data() + colon, p.segment_id).ec != std::errc() ||
      std::from_chars(value.data() + colon + 1, end, p.offset).ec != std::errc()) {
    return common::Error{"cassandra.state", fmt::format("state dir {}: unreadable position '{}'",
                                                        dir_.string(), value)};
  }
  return std::optional<CommitLogPosition>(p);
}

common::Status PositionStore::Save(CommitLogPosition position) {
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->Put(w, kPositionKey, position.ToString());
  if (!s.ok()) {
    return common::Error{"cassandra.state",
                         fmt::format("state dir {}: cannot save position {}: {}", dir_.string(),
                                     position.ToString(), s.ToString())};
  }
  return common::Status::Ok();
}

}  // namespace rm::cdc::cassandra
