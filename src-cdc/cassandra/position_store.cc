#include "src-cdc/cassandra/position_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

namespace rm::cdc::cassandra {
namespace {

constexpr const char* kStateKey = "cassandra.position";
constexpr int kFormat = 2;
// A state that names a spill is written as format 3: a version before the spill reads format 2
// only, so it refuses such a state with an error instead of ignoring "spills" and resuming past
// the stopped table's changes, which only the spill holds (a downgrade would lose them).
constexpr int kFormatWithSpills = 3;

nlohmann::json ToJson(const SegmentIdentity& s) {
  return {{"file", s.file}, {"dev", s.device}, {"ino", s.inode}};
}

SegmentIdentity IdentityFromJson(const nlohmann::json& j) {
  return SegmentIdentity{j.at("file").get<std::string>(), j.at("dev").get<uint64_t>(),
                         j.at("ino").get<uint64_t>()};
}

// The format before 2: "<segment id>:<offset>".
std::optional<CaptureState> ParseLegacy(const std::string& value) {
  CommitLogPosition p;
  const auto colon = value.find(':');
  const char* end = value.data() + value.size();
  if (colon == std::string::npos ||
      std::from_chars(value.data(), value.data() + colon, p.segment_id).ec != std::errc() ||
      std::from_chars(value.data() + colon + 1, end, p.offset).ptr != end) {
    return std::nullopt;
  }
  CaptureState state;
  state.resume = CaptureState::Resume{SegmentIdentity{}, p};
  state.legacy = true;
  return state;
}

}  // namespace

common::Result<SegmentIdentity> IdentifySegment(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return common::Error{"cassandra.io",
                         fmt::format("{}: cannot stat: {}", path.string(), std::strerror(errno))};
  }
  return SegmentIdentity{path.filename().string(), static_cast<uint64_t>(st.st_dev),
                         static_cast<uint64_t>(st.st_ino)};
}

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

common::Result<CaptureState> PositionStore::Load() const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kStateKey, &value);
  if (s.IsNotFound()) return CaptureState{};
  if (!s.ok()) {
    return common::Error{"cassandra.state", fmt::format("state dir {}: cannot read the state: {}",
                                                        dir_.string(), s.ToString())};
  }
  const auto unreadable = [&](const std::string& why) {
    return common::Error{"cassandra.state", fmt::format("state dir {}: unreadable state '{}': {}",
                                                        dir_.string(), value, why)};
  };
  if (value.empty() || value.front() != '{') {
    if (auto legacy = ParseLegacy(value)) return *legacy;
    return unreadable("neither JSON nor <segment id>:<offset>");
  }
  try {
    const auto j = nlohmann::json::parse(value);
    const int format = j.at("format").get<int>();
    if (format != kFormat && format != kFormatWithSpills) {
      return unreadable(fmt::format("format {} (this version reads {} and {})",
                                    j.at("format").dump(), kFormat, kFormatWithSpills));
    }
    CaptureState state;
    if (const auto& r = j.at("resume"); !r.is_null()) {
      state.resume = CaptureState::Resume{
          IdentityFromJson(r),
          CommitLogPosition{r.at("segment_id").get<int64_t>(), r.at("offset").get<uint32_t>()}};
    }
    for (const auto& d : j.at("delivered")) {
      state.delivered.push_back({IdentityFromJson(d), d.at("bad").get<bool>()});
    }
    if (j.contains("tables")) {
      for (const auto& [name, t] : j.at("tables").items()) {
        CaptureState::LearnedTable learned;
        learned.id = t.at("id").get<std::string>();
        auto configured = TableShape::FromJson(t.at("configured"));
        if (!configured.ok()) return unreadable(configured.error().message);
        learned.configured = std::move(configured).value();
        auto before = TableShape::FromJson(t.at("before"));
        if (!before.ok()) return unreadable(before.error().message);
        learned.before = std::move(before).value();
        for (const auto& c : t.at("changes")) {
          CaptureState::TableChange change;
          change.position =
              CommitLogPosition{c.at("segment_id").get<int64_t>(), c.at("offset").get<uint32_t>()};
          change.dropped = c.at("dropped").get<bool>();
          auto shape = TableShape::FromJson(c.at("shape"));
          if (!shape.ok()) return unreadable(shape.error().message);
          change.shape = std::move(shape).value();
          learned.changes.push_back(std::move(change));
        }
        state.tables[name] = std::move(learned);
      }
    }
    if (j.contains("spills")) {
      for (const auto& [name, covered] : j.at("spills").items()) {
        state.spills[name] = covered.get<uint64_t>();
      }
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    return unreadable(e.what());
  }
}

common::Status PositionStore::Save(const CaptureState& state) {
  nlohmann::json j = {{"format", kFormat}, {"resume", nullptr}};
  if (state.resume) {
    j["resume"] = ToJson(state.resume->segment);
    j["resume"]["segment_id"] = state.resume->position.segment_id;
    j["resume"]["offset"] = state.resume->position.offset;
  }
  j["delivered"] = nlohmann::json::array();
  for (const auto& d : state.delivered) {
    nlohmann::json e = ToJson(d.segment);
    e["bad"] = d.bad;
    j["delivered"].push_back(std::move(e));
  }
  if (!state.tables.empty()) {
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& [name, t] : state.tables) {
      nlohmann::json changes = nlohmann::json::array();
      for (const auto& c : t.changes) {
        changes.push_back({{"segment_id", c.position.segment_id},
                           {"offset", c.position.offset},
                           {"dropped", c.dropped},
                           {"shape", c.shape.ToJson()}});
      }
      tables[name] = {{"id", t.id},
                      {"configured", t.configured.ToJson()},
                      {"before", t.before.ToJson()},
                      {"changes", std::move(changes)}};
    }
    j["tables"] = std::move(tables);
  }
  if (!state.spills.empty()) {
    j["format"] = kFormatWithSpills;
    j["spills"] = state.spills;
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->Put(w, kStateKey, j.dump());
  if (!s.ok()) {
    return common::Error{
        "cassandra.state",
        fmt::format("state dir {}: cannot save the state (resume {}, {} delivered): {}",
                    dir_.string(),
                    state.resume ? state.resume->position.ToString() : std::string("none"),
                    state.delivered.size(), s.ToString())};
  }
  return common::Status::Ok();
}

}  // namespace rm::cdc::cassandra
