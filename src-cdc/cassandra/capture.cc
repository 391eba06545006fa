#include "src-cdc/cassandra/capture.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <utility>

#include "common/log.h"
#include "src-cdc/cassandra/change_events.h"
#include "src-cdc/cassandra/mutation_decoder.h"
#include "src-cdc/cassandra/system_schema.h"

namespace rm::cdc::cassandra {

namespace fs = std::filesystem;
using common::Error;
using common::Status;
using namespace std::chrono_literals;

namespace {

// "CommitLog-<version>-<id>.log" -> version, or 0.
int VersionFromFileName(const std::string& name) {
  constexpr std::string_view kPrefix = "CommitLog-";
  if (name.rfind(kPrefix, 0) != 0) return 0;
  const auto dash = name.find('-', kPrefix.size());
  if (dash == std::string::npos) return 0;
  try {
    return std::stoi(name.substr(kPrefix.size(), dash - kPrefix.size()));
  } catch (const std::exception&) {
    return 0;
  }
}

// Sleeps up to `d`, waking early when `stop` is set.
void SleepUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, 20ms));
  }
}

// The same columns (names, types with their roles), whatever the rest: shapes saved in the state
// went through JSON, which need not give back every Connect schema detail identically.
bool SameColumns(const TableShape& a, const TableShape& b) {
  return std::equal(a.columns.begin(), a.columns.end(), b.columns.begin(), b.columns.end(),
                    [](const ColumnShape& x, const ColumnShape& y) {
                      return x.name == y.name && x.type == y.type && x.key == y.key;
                    });
}

}  // namespace

CassandraCapture::CassandraCapture(CaptureConfig config, const Schema& schema,
                                   const KeyProvider* keys, EventSink& sink,
                                   prometheus::Registry& registry)
    : config_(std::move(config)),
      schema_(schema),
      reader_schema_(schema.Copy()),
      keys_(keys),
      sink_(sink),
      probe_(std::make_shared<CaptureProbe>(registry)),
      tracker_(std::make_shared<AckTracker>()) {
  if (Status s = AddSystemSchemaTables(&reader_schema_); !s.ok()) {
    // Only when a configured table claims a system_schema table's id: schema mutations are then
    // skipped as entries of unknown tables, and the configured CQL stays the shape.
    RM_LOG_ERROR("cassandra capture: schema mutations will not be read: {}", s.error().message);
  }
  reader_options_.schema = &reader_schema_;
  reader_options_.keys = keys_;
  if (!config_.transforms.empty()) {
    std::vector<transforms::CapturedTable> tables;
    for (const TableSchema* t : schema_.Tables()) {
      tables.push_back({t->QualifiedName(), TopicFor(config_.topic_prefix, *t)});
    }
    transforms_ =
        std::make_unique<transforms::TransformPipeline>(config_.transforms, tables, registry);
  }
}

CassandraCapture::~CassandraCapture() = default;

void CassandraCapture::SetHealth(const std::string& key, const std::string& problem) {
  std::lock_guard lock(health_mu_);
  if (problem.empty()) {
    problems_.erase(key);
  } else {
    problems_[key] = problem;
  }
}

void CassandraCapture::ReportProblem(const std::string& key, const std::string& problem) {
  std::lock_guard lock(health_mu_);
  auto it = problems_.find(key);
  if (it != problems_.end() && it->second == problem) return;
  // Logged and counted before Health() shows it, so whoever sees it there sees the metric too.
  RM_LOG_ERROR("cassandra capture: {}", problem);
  probe_->AddError(key);
  problems_[key] = problem;
}

std::string CassandraCapture::Health() const {
  std::string out;
  const auto stalled = tracker_->StalledFor();
  if (stalled >= config_.ack_stall_timeout) {
    out =
        fmt::format("{} events waited {} s for an acknowledgement from Kafka", tracker_->InFlight(),
                    std::chrono::duration_cast<std::chrono::seconds>(stalled).count());
  }
  if (std::string schema = schema_status_->Get(); !schema.empty()) {
    out += (out.empty() ? "" : "; ") + schema;
  }
  std::lock_guard lock(health_mu_);
  for (const auto& [key, why] : problems_) out += (out.empty() ? "" : "; ") + why;
  return out;
}

std::optional<CommitLogPosition> CassandraCapture::checkpointed() const {
  std::lock_guard lock(health_mu_);
  return checkpointed_;
}

common::Result<std::map<std::string, CassandraCapture::SegmentFiles>>
CassandraCapture::ListSegments() {
  std::map<std::string, SegmentFiles> out;
  std::vector<fs::path> idx_files;
  std::error_code ec;
  fs::directory_iterator it(config_.cdc_raw_dir, ec);
  if (ec) {
    return Error{"cassandra.cdc_raw", fmt::format("cdc_raw dir {}: cannot list: {}",
                                                  config_.cdc_raw_dir.string(), ec.message())};
  }
  // increment(ec), not ++: a file vanishing mid-listing must not throw.
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      return Error{"cassandra.cdc_raw", fmt::format("cdc_raw dir {}: cannot list: {}",
                                                    config_.cdc_raw_dir.string(), ec.message())};
    }
    const fs::directory_entry& e = *it;
    const std::string name = e.path().filename().string();
    if (name.size() > 8 && name.compare(name.size() - 8, 8, "_cdc.idx") == 0) {
      idx_files.push_back(e.path());
      continue;
    }
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
    auto id = SegmentIdFromFileName(name);
    const int version = VersionFromFileName(name);
    if (!id || version == 0) continue;
    auto identity = IdentifySegment(e.path());
    if (!identity.ok()) continue;  // vanished since it was listed
    SegmentFiles f{*id, version, std::move(identity).value(), e.path(), {}};
    if (version >= kCommitLogVersion40) {
      f.idx = config_.cdc_raw_dir / fmt::format("CommitLog-{}-{}_cdc.idx", version, *id);
    }
    out[name] = std::move(f);
  }
  for (const fs::path& idx : idx_files) {
    const std::string name = idx.filename().string();
    const std::string log = name.substr(0, name.size() - 8) + ".log";
    if (out.count(log)) continue;
    // An idx whose segment is gone: left by a crash between the two deletions of a delivered
    // segment, or rewritten with COMPLETED by Cassandra after the capture delivered and
    // deleted the segment (it finishes segments before COMPLETED, see NewerSegmentSynced).
    // Cassandra links the log into cdc_raw when it creates the segment, before any idx, so a
    // COMPLETED idx without its log has nothing left to read.
    bool remove = delivered_.count(log) > 0;
    if (!remove) {
      auto parsed = ReadCdcIndexFile(idx);
      remove = parsed.ok() && parsed->completed;
    }
    std::error_code ignored;
    if (remove) fs::remove(idx, ignored);
  }
  return out;
}

ReadControl CassandraCapture::HandleMutation(Mutation&& m) {
  probe_->AddMutations(1);
  if (IsSchemaMutation(m)) {
    // No boundary, as for entries of tables not captured: the next write's boundary covers it
    // and the history records produced for it. A restart before that reads it again, and the
    // history then already holds its version (SchemaGuard::ObserveChange).
    if (!ApplySchemaMutation(m)) return ReadControl::kStop;
    return tracker_->InFlight() >= config_.max_in_flight_events ? ReadControl::kStop
                                                                : ReadControl::kContinue;
  }
  // Before the boundary: the spill's size at it is what the checkpoint will cover.
  SpillMutation(m);
  if (!ProduceEvents(m, current_->files.log.filename().string())) return ReadControl::kStop;
  AddBoundary(CommitLogPosition{current_->files.id, m.end_offset});
  if (tracker_->InFlight() >= config_.max_in_flight_events) return ReadControl::kStop;
  return ReadControl::kContinue;
}

bool CassandraCapture::ProduceEvents(const Mutation& m, const std::string& file) {
  std::vector<Error> errors;
  EventSourceContext ctx{config_.topic_prefix, config_.cluster, file, NowMillis()};
  std::vector<EncodedRecord> records;
  const Mutation* source = &m;
  Mutation kept;  // `m` without the blocked tables' updates, when it has any
  const auto blocked = [&](const PartitionUpdate& u) {
    return u.table != nullptr && u.table->id && blocked_.count(*u.table->id) > 0;
  };
  if (!blocked_.empty() && std::any_of(m.updates.begin(), m.updates.end(), blocked)) {
    kept.position = m.position;
    kept.end_offset = m.end_offset;
    for (const PartitionUpdate& u : m.updates) {
      if (!blocked(u)) kept.updates.push_back(u);
    }
    source = &kept;
  }
  try {
    for (ChangeEvent& e : BuildChangeEvents(*source, ctx, &errors)) {
      if (guard_) {
        if (guard_->Stopped(e.topic)) continue;  // nothing after the change, in no shape
        e.schemas = guard_->Schemas(e.topic);
      }
      if (transforms_) {
        auto outcome = transforms_->Apply(e);
        if (!outcome.ok()) {
          // Nothing of this mutation is produced and no boundary follows: the checkpoint stays
          // before it, so a restart meets the event again.
          stop_error_ = outcome.error();
          return false;
        }
        if (*outcome == transforms::TransformPipeline::Outcome::kFiltered) continue;
      }
      for (EncodedRecord& r : EncodeEventRecords(e, config_.tombstones_on_delete)) {
        records.push_back(std::move(r));
      }
    }
  } catch (const std::exception& e) {
    // Not expected (values are checked and JSON text is made valid), but one bad mutation
    // must not end the capture: it is reported and left out, like an undecodable entry.
    records.clear();
    errors.push_back(Error{"cassandra.event", fmt::format("{}: entry at {}: {}", ctx.file_name,
                                                          m.position.ToString(), e.what())});
  }
  for (const Error& e : errors) {
    RM_LOG_ERROR("cassandra capture: {}", e.message);
    probe_->AddError("event");
  }
  for (EncodedRecord& r : records) {
    if (!Produce(std::move(r))) return false;
  }
  return true;
}

bool CassandraCapture::ApplySchemaMutation(const Mutation& m) {
  const std::string at = m.position.ToString();
  auto changes = DecodeSchemaChanges(m);
  if (!changes.ok()) {
    RM_LOG_WARN("cassandra capture: {}: skipped, the tables keep their columns",
                changes.error().message);
    probe_->AddError("schema");
    return true;
  }
  for (const TableChange& change : changes.value()) {
    const TableSchema* current = reader_schema_.FindTable(change.keyspace, change.table);
    if (current == nullptr || IsSystemSchemaTable(*current)) continue;  // not captured
    const std::string name = current->QualifiedName();
    const std::string keyspace = current->keyspace;
    if (change.id && current->id && *change.id != *current->id) {
      RM_LOG_WARN(
          "cassandra capture: table {} has id {} in the schema mutation at {} but {} in the "
          "configured CQL (re-created?): its mutations under the new id are skipped until the "
          "CQL names it",
          name, change.id->ToString(), at, current->id->ToString());
      continue;
    }
    if (!change.defines_table() && spills_.count(name) > 0 && spills_.at(name).file) {
      // Its spill holds the entries of one shape; the guard decides on this change only once
      // that shape is accepted, when this mutation is read again.
      Freeze(
          fmt::format("table {} changed again at commit log position {} while stopped", name, at));
    }
    if (change.table_dropped) {
      RM_LOG_WARN("cassandra capture: table {} dropped at {}: its later entries are not decoded",
                  name, at);
      if (guard_) {
        SchemaGuard::Decision d = guard_->ObserveDrop(*current, m.position);
        for (auto& [key, value] : d.records) {
          if (!Produce(EncodedRecord{config_.HistoryTopic(), key, value})) return false;
        }
      }
      probe_->AddError("table_dropped");
      Learn(*current, nullptr, m.position);
      MarkDropped(*current, m.position);  // `current` stays allocated (Schema::RemoveTable)
      SpillSchemaChange(keyspace);
      continue;
    }
    if (change.defines_table()) {
      // The table's CREATE (segments keep it from before the capture knew the table): the
      // configured CQL stays its first shape; only ALTERs after it make versions.
      auto defined = DefinedTable(*current, change);
      if (!defined.ok()) {
        RM_LOG_WARN("cassandra capture: definition at {}: {}", at, defined.error().message);
      } else if (!ColumnChanges(*current, *defined).empty()) {
        RM_LOG_WARN(
            "cassandra capture: table {}: its CREATE at {} differs from the configured CQL ({}): "
            "decoding with the CQL",
            name, at, DescribeColumnChanges(*current, *defined));
      }
      continue;
    }
    auto next = ApplyTableChange(*current, change);
    if (!next.ok()) {
      RM_LOG_WARN(
          "cassandra capture: schema mutation at {}: {}: skipped, the table keeps its "
          "columns",
          at, next.error().message);
      probe_->AddError("schema");
      continue;
    }
    if (!next->has_value()) continue;
    TableSchema table = std::move(**next);
    RM_LOG_INFO("cassandra capture: table {}: schema mutation at {}: {}", name, at,
                DescribeColumnChanges(*current, table));
    bool stopped = false;
    if (guard_) {
      SchemaGuard::Decision d = guard_->ObserveChange(table, m.position);
      for (auto& [key, value] : d.records) {
        if (!Produce(EncodedRecord{config_.HistoryTopic(), key, value})) return false;
      }
      stopped = d.outcome == SchemaGuard::Outcome::kStopped;
    }
    // The entries after this one decode with the new columns (the reader decodes the next
    // entry only after this handler returned; `current` stays valid for earlier mutations).
    Learn(*current, &table, m.position);
    const TableId id = *current->id;
    if (Status s = reader_schema_.ReplaceTable(std::move(table)); !s.ok()) {
      RM_LOG_ERROR("cassandra capture: {}", s.error().message);
    }
    // Its entries from here on are spilled until the shape is accepted (the spill starts with
    // the reader's columns, which are the new ones).
    if (stopped) StartSpill(*reader_schema_.FindTable(id), m.position);
    SpillSchemaChange(keyspace);
  }
  return true;
}

bool CassandraCapture::Produce(EncodedRecord&& r) {
  const uint64_t seq = tracker_->Register();
  std::shared_ptr<AckTracker> tracker = tracker_;
  std::shared_ptr<CaptureProbe> probe = probe_;
  Status s = sink_.Produce(r.topic, std::move(r.key), std::move(r.value),
                           [tracker, probe, seq](Status st) {
                             probe->AddAcked(st.ok());
                             tracker->Ack(seq, st);
                           });
  if (!s.ok()) {
    // The registered event is never acked: nothing from here on becomes safe.
    sink_error_ = s.error();
    return false;
  }
  probe_->AddProduced();
  return true;
}

void CassandraCapture::Learn(const TableSchema& before, const TableSchema* after,
                             const CommitLogPosition& at) {
  auto [it, fresh] = learned_.try_emplace(before.QualifiedName());
  CaptureState::LearnedTable& learned = it->second;
  if (fresh) {
    const TableSchema* configured = before.id ? schema_.FindTable(*before.id) : nullptr;
    learned.id = before.id ? before.id->ToString() : "";
    learned.configured = ShapeOf(configured != nullptr ? *configured : before);
    learned.before = ShapeOf(before);
  }
  // Read again (a segment read twice in one run cannot happen; kept for safety): one change
  // per position.
  std::erase_if(learned.changes, [&](const auto& c) { return c.position == at; });
  learned.changes.push_back(CaptureState::TableChange{
      at, after != nullptr ? ShapeOf(*after) : TableShape{}, after == nullptr});
  state_dirty_ = true;
}

void CassandraCapture::MarkDropped(const TableSchema& table, const CommitLogPosition& at) {
  const std::string name = table.QualifiedName();
  if (table.id) reader_schema_.RemoveTable(*table.id);
  SetHealth("dropped " + name,
            fmt::format("table {} was dropped at commit log position {}: its changes are no "
                        "longer captured (remove it from the configured tables, or configure "
                        "the table created again with its new id)",
                        name, at.ToString()));
}

void CassandraCapture::ApplyLearned() {
  if (!resume_) {
    // Nothing was checkpointed: every segment is read from its start, every change again.
    if (!learned_.empty()) state_dirty_ = true;
    learned_.clear();
    return;
  }
  const CommitLogPosition position = resume_->position;
  // The segments this run reads (again): in cdc_raw and not delivered. The position can stay
  // at a schema mutation when nothing captured follows it in a segment that was delivered.
  std::set<int64_t> unread;
  std::error_code ec;
  for (fs::directory_iterator d(config_.cdc_raw_dir, ec); !ec && d != fs::directory_iterator();
       d.increment(ec)) {
    const std::string file = d->path().filename().string();
    auto id = SegmentIdFromFileName(file);
    if (id && file.ends_with(".log") && !delivered_.count(file)) unread.insert(*id);
  }
  for (auto it = learned_.begin(); it != learned_.end();) {
    const std::string& name = it->first;
    CaptureState::LearnedTable& learned = it->second;
    // The changes at or after `position` in segments read again are read again.
    const size_t had = learned.changes.size();
    std::erase_if(learned.changes, [&](const auto& c) {
      return !(c.position < position) && unread.count(c.position.segment_id) > 0;
    });
    if (learned.changes.size() != had) state_dirty_ = true;
    const TableSchema* configured = nullptr;
    for (const TableSchema* t : schema_.Tables()) {
      if (t->QualifiedName() == name) configured = t;
    }
    // Why the learned changes no longer apply (empty: they do, or there is nothing to apply).
    std::string why;
    bool forget = false;
    TableShape shape;
    if (configured == nullptr) {
      why = "it is no longer configured";
    } else if (!configured->id || configured->id->ToString() != learned.id) {
      why = "its configured CQL names another table id";
    } else {
      shape = ShapeOf(*configured);
      const bool known =
          SameColumns(shape, learned.configured) || SameColumns(shape, learned.before) ||
          std::any_of(learned.changes.begin(), learned.changes.end(),
                      [&](const auto& c) { return !c.dropped && SameColumns(c.shape, shape); });
      if (!known) {
        why = "its configured CQL was changed to columns no schema mutation read gave it";
      } else {
        forget = learned.changes.empty() && SameColumns(learned.before, shape);
      }
    }
    if (forget || !why.empty()) {
      if (!why.empty()) {
        RM_LOG_INFO(
            "cassandra capture: table {}: the columns learned from the commit log no longer "
            "apply, {}: decoding with the configured CQL",
            name, why);
      }
      it = learned_.erase(it);
      state_dirty_ = true;
      continue;
    }
    if (!learned.changes.empty() && learned.changes.back().dropped) {
      MarkDropped(*configured, learned.changes.back().position);
    } else {
      const TableShape& target =
          learned.changes.empty() ? learned.before : learned.changes.back().shape;
      if (!SameColumns(target, shape)) {
        auto table = TableFromShape(*configured, target);
        if (!table.ok()) {
          RM_LOG_ERROR("cassandra capture: {}: decoding with the configured CQL",
                       table.error().message);
        } else if (Status s = reader_schema_.ReplaceTable(std::move(table).value()); !s.ok()) {
          RM_LOG_ERROR("cassandra capture: {}", s.error().message);
        } else {
          RM_LOG_INFO(
              "cassandra capture: table {}: decoding from {} with the columns {} (saved with "
              "the position)",
              name, position.ToString(),
              learned.changes.empty()
                  ? std::string("it had before the schema mutations read after that position")
                  : "the schema mutation at " + learned.changes.back().position.ToString() +
                        " gave it");
        }
      }
    }
    ++it;
  }
}

bool CassandraCapture::StartSchemaGuard(const CommitLogPosition& position) {
  schema_observed_ = true;
  const SchemaConfig& sc = config_.schema;
  if (!sc.history && sc.envelope == EnvelopeFormat::kPlain) {
    // No compatibility check any more: nothing is stopped, a spill left is produced as is.
    for (auto& [name, spill] : spills_) spill.replay = spill.file != nullptr;
    return true;
  }
  SchemaHistory history;
  if (sc.history) {
    if (!history_reader_) {
      stop_error_ =
          Error{"schema.history_read", "schema.history is on but no history reader is set"};
      return false;
    }
    auto h = history_reader_();
    if (!h.ok()) {
      stop_error_ = h.error();
      return false;
    }
    history = std::move(h).value();
  }
  guard_.emplace(SchemaGuardOptions{sc.history, sc.envelope == EnvelopeFormat::kJsonWithSchema,
                                    config_.topic_prefix},
                 std::move(history), schema_status_);
  // The spills a restart found (LoadSpills): each table stopped at its spill's position with
  // the spill's shape. Observed there again, that shape is either accepted by now (a version
  // from that position: the spill is replayed) or still waits (the table stays stopped and its
  // spill goes on).
  for (auto& [name, spill] : spills_) {
    const TableSchema* t = spill.file ? reader_schema_.FindTable(spill.id) : nullptr;
    if (t == nullptr) continue;
    auto shaped = TableFromShape(*t, spill.file->header().shape);
    if (!shaped.ok()) {
      RM_LOG_ERROR("cassandra capture: spill {}: {}", spill.file->path().string(),
                   shaped.error().message);
      continue;  // not replayed: kept, with the checkpoint held by the stop observed below
    }
    SchemaGuard::Decision d = guard_->ObserveChange(*shaped, spill.file->header().stop);
    for (auto& [key, value] : d.records) {
      if (!Produce(EncodedRecord{config_.HistoryTopic(), key, value})) return false;
    }
    spill.replay = d.outcome != SchemaGuard::Outcome::kStopped;
  }
  for (const TableSchema* configured : schema_.Tables()) {
    // The columns the reader starts with (ApplyLearned); none for a dropped table.
    const TableSchema* t = reader_schema_.FindTable(*configured->id);
    if (t == nullptr || blocked_.count(*configured->id) > 0) continue;
    SchemaGuard::StartDecision start = guard_->Start(*t, position);
    for (auto& [key, value] : start.decision.records) {
      if (!Produce(EncodedRecord{config_.HistoryTopic(), key, value})) return false;
    }
    if (start.table) {
      if (Status s = reader_schema_.ReplaceTable(std::move(*start.table)); !s.ok()) {
        RM_LOG_ERROR("cassandra capture: {}", s.error().message);
      }
    }
    // Its entries from `position` (where this run starts) on are spilled until the shape is
    // accepted (a spill loaded for it goes on).
    if (start.decision.outcome == SchemaGuard::Outcome::kStopped) {
      StartSpill(*reader_schema_.FindTable(*configured->id), position);
    }
  }
  // The spills decode what follows with the columns the tables start with.
  std::set<std::string> keyspaces;
  for (const auto& [name, spill] : spills_) keyspaces.insert(spill.keyspace);
  for (const std::string& keyspace : keyspaces) SpillSchemaChange(keyspace);
  return true;
}

bool CassandraCapture::SchemaAccepted() {
  if (!guard_ || !guard_->any_stopped() || !history_reader_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_poll_ < config_.schema.accept_poll) return false;
  last_accept_poll_ = now;
  auto fresh = history_reader_();
  if (!fresh.ok()) {
    RM_LOG_WARN("cassandra capture: reading the schema history: {}", fresh.error().message);
    return false;
  }
  return guard_->Accepted(*fresh);
}

void CassandraCapture::FinishCurrent(bool bad) {
  const SegmentFiles files = current_->files;
  current_.reset();
  // Frozen: the segment is kept (not delivered in this run), read again after the acceptance.
  if (!frozen_) tracker_->AddSegmentDone(files.id);
  awaiting_[files.id] = Delivered{files, bad};
  RM_LOG_INFO("cassandra capture: {} read to its end{}", files.log.filename().string(),
              bad ? " (unreadable: will be moved to bad-segments)" : "");
}

bool CassandraCapture::Started(const SegmentFiles& files) const {
  if (current_ && current_->files.identity == files.identity) return true;
  if (auto it = awaiting_.find(files.id);
      it != awaiting_.end() && it->second.files.identity == files.identity) {
    return true;
  }
  auto it = delivered_.find(files.identity.file);
  return it != delivered_.end() && it->second.files.identity == files.identity;
}

std::optional<SegmentIdentity> CassandraCapture::IdentityOf(int64_t segment_id) const {
  if (current_ && current_->files.id == segment_id) return current_->files.identity;
  if (auto it = awaiting_.find(segment_id); it != awaiting_.end()) {
    return it->second.files.identity;
  }
  for (const auto& [name, d] : delivered_) {
    if (d.files.id == segment_id) return d.files.identity;
  }
  if (saved_ && saved_->position.segment_id == segment_id) return saved_->segment;
  return std::nullopt;
}

bool CassandraCapture::NewerSegmentSynced(int64_t id) const {
  std::error_code ec;
  fs::directory_iterator it(config_.cdc_raw_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 8 || name.compare(name.size() - 8, 8, "_cdc.idx") != 0) continue;
    auto other = SegmentIdFromFileName(name);
    if (!other || *other <= id) continue;
    const std::string log = name.substr(0, name.size() - 8) + ".log";
    if (awaiting_.count(*other) || delivered_.count(log)) continue;
    auto idx = ReadCdcIndexFile(it->path());
    if (idx.ok() && !idx->completed) return true;
  }
  return false;
}

bool CassandraCapture::ReadCurrent() {
  Current& cur = *current_;
  const std::string file = cur.files.log.filename().string();
  uint64_t limit = SegmentReader::kNoLimit;
  bool completed = true;  // format 6: in cdc_raw only once complete
  if (cur.files.version >= kCommitLogVersion40) {
    // Checked before the idx is read: once a newer segment was synced, this one's idx offset is
    // final (see NewerSegmentSynced).
    const bool superseded = NewerSegmentSynced(cur.files.id);
    auto idx = ReadCdcIndexFile(cur.files.idx);
    if (!idx.ok()) {
      // Not written yet, or caught while Cassandra rewrites it: try again at the next poll.
      RM_LOG_DEBUG("cassandra capture: {}: {}", file, idx.error().message);
      return false;
    }
    limit = idx->offset;
    completed = idx->completed || superseded;
  }
  if (!cur.reader) {
    uint32_t resume = 0;
    if (resume_ && resume_->position.segment_id == cur.files.id &&
        (legacy_resume_ || resume_->segment == cur.files.identity)) {
      resume = resume_->position.offset;
      if (legacy_resume_) {
        // From now on the position names this file, in the current state format.
        resume_->segment = cur.files.identity;
        if (saved_ && saved_->position == resume_->position) saved_->segment = resume_->segment;
        legacy_resume_ = false;
        state_dirty_ = true;
      }
    }
    if (!schema_observed_ &&
        !StartSchemaGuard(CommitLogPosition{cur.files.id, static_cast<uint32_t>(resume)})) {
      return false;
    }
    auto reader = SegmentReader::Open(cur.files.log, reader_options_, resume);
    if (!reader.ok()) {
      if (!completed) {
        // A live segment's header may not be on disk yet; it is an error once it is complete.
        RM_LOG_DEBUG("cassandra capture: {} not readable yet: {}", file, reader.error().message);
        return false;
      }
      RM_LOG_ERROR("cassandra capture: {}", reader.error().message);
      probe_->AddError("segment_open");
      FinishCurrent(/*bad=*/true);
      return true;
    }
    cur.reader = std::move(reader).value();
    if (resume > 0) {
      RM_LOG_INFO("cassandra capture: resuming {} at offset {}", file, resume);
    }
  }
  auto p =
      cur.reader->ReadUpTo(limit, [this](Mutation&& m) { return HandleMutation(std::move(m)); });
  if (!p.ok()) {
    // Retried at every poll: logged and counted when it starts or changes.
    ReportProblem("io", p.error().message);
    return false;
  }
  SetHealth("io", "");
  for (const Error& e : p->errors) RM_LOG_ERROR("cassandra capture: {}", e.message);
  if (!p->errors.empty() || p->errors_dropped > 0) {
    probe_->AddError("segment", static_cast<int64_t>(p->errors.size() + p->errors_dropped));
  }
  const uint64_t read = cur.reader->position().offset;
  probe_->SetReadOffset(read);
  if (limit != SegmentReader::kNoLimit) probe_->SetLagBytes(limit > read ? limit - read : 0);
  if (sink_error_ || stop_error_) return false;
  if (p->stop == StopReason::kStoppedByHandler) return true;  // in-flight cap: read on later
  if (completed) {
    // Complete and read as far as it can be: nothing more will appear in it.
    if (limit != SegmentReader::kNoLimit && read < limit && !cur.reader->finished()) {
      RM_LOG_WARN("cassandra capture: {} is COMPLETED at offset {} but reading stopped at {} ({})",
                  file, limit, read, ToString(p->stop));
    }
    if (limit == SegmentReader::kNoLimit) probe_->SetLagBytes(0);
    FinishCurrent(/*bad=*/false);
    return true;
  }
  return p->stats.sections > 0;
}

bool CassandraCapture::Step(const std::atomic<bool>& stop) {
  probe_->SetInflight(tracker_->InFlight());
  if (tracker_->InFlight() >= config_.max_in_flight_events) {
    // Back-pressure: wait for acks to make room rather than buffering; read on at once when
    // they did.
    return tracker_->WaitInFlightBelow(config_.max_in_flight_events, config_.poll_interval);
  }
  if (!current_) {
    auto segments = ListSegments();
    if (!segments.ok()) {
      ReportProblem("cdc_raw", segments.error().message);
      return false;
    }
    SetHealth("cdc_raw", "");
    // Delivered records whose file is gone (cleaned up just before a crash, or removed by
    // someone else) or is now another file of the same name: the old file needs nothing more.
    for (auto it = delivered_.begin(); it != delivered_.end();) {
      auto listed = segments->find(it->first);
      if (listed == segments->end() || listed->second.identity != it->second.files.identity) {
        it = delivered_.erase(it);
        state_dirty_ = true;
      } else {
        ++it;
      }
    }
    // The checkpointed segment's file is gone, or another file took its name: no file is that
    // segment any more (a crash came between its cleanup and the save that records this).
    if (saved_ && !saved_->segment.file.empty() && !legacy_resume_) {
      auto listed = segments->find(saved_->segment.file);
      if (listed == segments->end() || listed->second.identity != saved_->segment) {
        ForgetCheckpointedFile(saved_->segment);
      }
    }
    // Unread segments by first sight, then id (see the class comment on order).
    std::map<int64_t, const SegmentFiles*> fresh;
    std::map<SegmentIdentity, uint64_t> seen;
    const SegmentFiles* next = nullptr;
    uint64_t next_seen = 0;
    for (const auto& [name, files] : segments.value()) {
      if (Started(files)) continue;
      auto it = seen_.find(files.identity);
      if (it == seen_.end()) {
        fresh[files.id] = &files;
        continue;
      }
      seen[files.identity] = it->second;
      if (!next || it->second < next_seen) {
        next = &files;
        next_seen = it->second;
      }
    }
    for (const auto& [id, files] : fresh) seen[files->identity] = next_seen_++;
    if (!next && !fresh.empty()) next = fresh.begin()->second;
    seen_ = std::move(seen);  // forgets segments gone or started
    probe_->SetSegmentsPending(awaiting_.size() + delivered_.size() + seen_.size());
    if (!next) return false;
    current_ = Current{*next, nullptr, false};
  }
  if (stop.load()) return false;
  return ReadCurrent();
}

bool CassandraCapture::CleanUp(const SegmentFiles& files, bool bad) {
  std::error_code ec;
  std::vector<fs::path> paths;
  // Only while it is still the file that was delivered: a new segment may have taken its name.
  auto identity = IdentifySegment(files.log);
  if (identity.ok() && identity.value() == files.identity) paths.push_back(files.log);
  if (!files.idx.empty() && fs::exists(files.idx, ec)) paths.push_back(files.idx);
  const bool move = bad || config_.processed == ProcessedAction::kMove;
  const fs::path dest = bad ? config_.state_dir / "bad-segments" : config_.move_to;
  for (const fs::path& p : paths) {
    if (move) {
      fs::create_directories(dest, ec);
      fs::rename(p, dest / p.filename(), ec);
      if (ec == std::errc::cross_device_link) {
        ec.clear();
        fs::copy_file(p, dest / p.filename(), fs::copy_options::overwrite_existing, ec);
        if (!ec) fs::remove(p, ec);
      }
    } else {
      fs::remove(p, ec);
    }
    if (ec) {
      RM_LOG_ERROR("cassandra capture: cannot {} {}: {}", move ? "move" : "delete", p.string(),
                   ec.message());
      probe_->AddError("cleanup");
      return false;
    }
  }
  probe_->AddSegmentDone();
  RM_LOG_INFO("cassandra capture: {} delivered, {}", files.log.filename().string(),
              move ? "moved to " + dest.string() : std::string("deleted"));
  return true;
}

bool CassandraCapture::SaveState() {
  CaptureState state;
  state.resume = saved_;
  state.tables = learned_;
  for (const auto& [name, spill] : spills_) {
    // A spill the position covers nothing of yet is read again (and spilled again) after a
    // restart: the file found then is removed.
    if (spill.covered > 0) state.spills[name] = spill.covered;
  }
  for (const auto& [name, d] : delivered_) state.delivered.push_back({d.files.identity, d.bad});
  Status s = store_->Save(state);
  if (!s.ok()) {
    ReportProblem("state", s.error().message);
    return false;
  }
  SetHealth("state", "");
  state_dirty_ = false;
  return true;
}

void CassandraCapture::ForgetCheckpointedFile(const SegmentIdentity& gone) {
  if (gone.inode == 0) return;
  for (auto* resume : {&resume_, &saved_}) {
    if (*resume && (*resume)->segment == gone) {
      (*resume)->segment.device = 0;
      (*resume)->segment.inode = 0;
      state_dirty_ = true;
    }
  }
}

void CassandraCapture::Checkpoint() {
  // The spills hold every entry of a stopped table read so far: durable before the position
  // may pass them.
  if (!SyncSpills()) return;
  for (int64_t id : tracker_->TakeDoneSegments()) {
    auto it = awaiting_.find(id);
    if (it == awaiting_.end()) continue;
    delivered_[it->second.files.identity.file] = it->second;
    awaiting_.erase(it);
    state_dirty_ = true;
  }
  const AckTracker::Safe point = tracker_->SafePoint();
  const auto& safe = point.position;
  bool moved = safe.has_value();  // the saved position is (or becomes) `safe`
  if (safe && (!saved_ || saved_->position != *safe)) {
    auto identity = IdentityOf(safe->segment_id);
    moved = identity.has_value();
    if (identity) {
      saved_ = CaptureState::Resume{*identity, *safe};
      state_dirty_ = true;
      // Only the change that applies at the saved position and those after it can matter to
      // a restart.
      for (auto& [name, learned] : learned_) {
        auto& changes = learned.changes;
        size_t applies = 0;
        for (size_t i = 0; i < changes.size(); ++i) {
          if (changes[i].position < safe.value()) applies = i;
        }
        changes.erase(changes.begin(), changes.begin() + static_cast<std::ptrdiff_t>(applies));
      }
    } else {
      // Not expected: a boundary's segment stays known until it is cleaned up, which needs a
      // saved state first. The position is not saved rather than saved under a wrong name.
      RM_LOG_ERROR("cassandra capture: position {} names no known segment", safe->ToString());
    }
  }
  // What each spill holds up to the saved position's boundary is covered by it.
  for (auto& [name, spill] : spills_) {
    while (moved && !spill.marks.empty() && spill.marks.front().first <= point.boundaries) {
      if (spill.covered != spill.marks.front().second) {
        spill.covered = spill.marks.front().second;
        state_dirty_ = true;
      }
      spill.marks.pop_front();
    }
    if (spill.file) probe_->SetSpillBytes(name, spill.file->size());
  }
  // Nothing is cleaned up before the position and the delivered set are durable.
  if (state_dirty_ && !SaveState()) return;
  if (saved_) {
    probe_->SetPosition(saved_->position.segment_id, saved_->position.offset);
    std::lock_guard lock(health_mu_);
    checkpointed_ = saved_->position;
  }
  bool cleaned = false;
  for (auto it = delivered_.begin(); it != delivered_.end();) {
    if (CleanUp(it->second.files, it->second.bad)) {
      ForgetCheckpointedFile(it->second.files.identity);
      it = delivered_.erase(it);
      cleaned = true;
    } else {
      ++it;  // retried at the next checkpoint
    }
  }
  // Best effort: a record left behind by a crash here names a file that is gone, and is
  // dropped at the next start.
  if (cleaned) SaveState();
}

void CassandraCapture::AddBoundary(const CommitLogPosition& position) {
  if (frozen_) return;
  tracker_->AddBoundary(position);
  ++boundaries_;
  for (auto& [name, spill] : spills_) {
    if (spill.file && spill.file->size() != spill.marked) {
      spill.marked = spill.file->size();
      spill.marks.emplace_back(boundaries_, spill.marked);
    }
  }
}

void CassandraCapture::Freeze(const std::string& why) {
  if (frozen_) return;
  frozen_ = why;
  const std::string text = fmt::format(
      "{}: the checkpoint is held from here until the stopped table's shape is accepted "
      "(segments are kept; Cassandra's cdc_total_space fills meanwhile)",
      why);
  RM_LOG_WARN("cassandra capture: {}", text);
  SetHealth("frozen", text);
}

std::vector<SpillTable> CassandraCapture::SpillTablesOf(const std::string& keyspace) const {
  std::vector<SpillTable> out;
  for (const TableSchema* t : reader_schema_.Tables()) {
    if (t->keyspace != keyspace || !t->id || IsSystemSchemaTable(*t)) continue;
    out.push_back(SpillTable{t->id->ToString(), t->keyspace, t->name, ShapeOf(*t)});
  }
  return out;
}

void CassandraCapture::StartSpill(const TableSchema& table, const CommitLogPosition& at) {
  const std::string name = table.QualifiedName();
  if (auto it = spills_.find(name); it != spills_.end()) return;  // loaded: goes on
  if (frozen_) return;  // nothing from here on is checkpointed anyway
  if (config_.max_spill_bytes == 0) {
    Freeze(fmt::format("table {} stopped and max_spill_bytes is 0", name));
    return;
  }
  SpillHeader header{name, table.id->ToString(), at, ShapeOf(table)};
  auto file = TableSpill::Create(TableSpill::PathFor(config_.state_dir / "spill", name), header);
  Status s =
      file.ok() ? file.value()->AppendSchema(SpillTablesOf(table.keyspace)) : Status(file.error());
  if (!s.ok()) {
    probe_->AddError("spill");
    Freeze(fmt::format("table {}: {}", name, s.error().message));
    return;
  }
  RM_LOG_WARN(
      "cassandra capture: table {} stopped at {}: its entries from there are kept in {} until "
      "its shape is accepted; the other tables' checkpoint goes on",
      name, at.ToString(), file.value()->path().string());
  Spill spill;
  spill.file = std::move(file).value();
  spill.id = *table.id;
  spill.keyspace = table.keyspace;
  probe_->SetSpillBytes(name, spill.file->size());
  spills_.emplace(name, std::move(spill));
}

void CassandraCapture::SpillMutation(const Mutation& m) {
  if (frozen_ || spills_.empty()) return;
  for (auto& [name, spill] : spills_) {
    if (!spill.file) continue;
    // Not captured by the lambda: clang 14 refuses structured bindings in lambda captures.
    const auto& id = spill.id;
    const bool touches =
        std::any_of(m.updates.begin(), m.updates.end(), [&id](const PartitionUpdate& u) {
          return u.table != nullptr && u.table->id && *u.table->id == id;
        });
    if (!touches) continue;
    const SpillEntry entry{m.position, m.end_offset, m.messaging_version,
                           current_->files.log.filename().string(), m.entry};
    if (spill.file->size() + TableSpill::FrameSize(entry) > config_.max_spill_bytes) {
      // This mutation gets no boundary: the checkpoint stays before it.
      Freeze(fmt::format("table {}: its spill {} reached max_spill_bytes ({} bytes)", name,
                         spill.file->path().string(), config_.max_spill_bytes));
      return;
    }
    if (Status s = spill.file->AppendEntry(entry); !s.ok()) {
      probe_->AddError("spill");
      Freeze(fmt::format("table {}: {}", name, s.error().message));
      return;
    }
  }
}

void CassandraCapture::SpillSchemaChange(const std::string& keyspace) {
  if (frozen_) return;
  for (auto& [name, spill] : spills_) {
    if (!spill.file || spill.keyspace != keyspace) continue;
    if (Status s = spill.file->AppendSchema(SpillTablesOf(keyspace)); !s.ok()) {
      probe_->AddError("spill");
      Freeze(fmt::format("table {}: {}", name, s.error().message));
      return;
    }
  }
}

bool CassandraCapture::SyncSpills() {
  for (auto& [name, spill] : spills_) {
    if (!spill.file) continue;
    if (Status s = spill.file->Sync(); !s.ok()) {
      ReportProblem("spill", s.error().message);
      return false;
    }
  }
  SetHealth("spill", "");
  return true;
}

void CassandraCapture::LoadSpills(const std::map<std::string, uint64_t>& covered) {
  const fs::path dir = config_.state_dir / "spill";
  std::set<fs::path> named;
  for (const auto& [name, bytes] : covered) {
    const fs::path path = TableSpill::PathFor(dir, name);
    const TableSchema* configured = nullptr;
    for (const TableSchema* t : schema_.Tables()) {
      if (t->QualifiedName() == name) configured = t;
    }
    if (configured == nullptr) {
      // The operator's way to give the spilled changes up: the table is no longer captured.
      RM_LOG_WARN(
          "cassandra capture: table {} is no longer configured: its spill {} ({} bytes of "
          "changes since it stopped) is deleted",
          name, path.string(), bytes);
      state_dirty_ = true;
      continue;
    }
    named.insert(path);
    Spill spill;
    spill.id = *configured->id;
    spill.keyspace = configured->keyspace;
    spill.covered = bytes;
    spill.marked = bytes;
    auto file = TableSpill::Open(path, bytes);
    if (!file.ok()) {
      // Never skipped: the table is not captured and nothing is checkpointed until an operator
      // repairs or gives up the spill (removes the table from the configuration).
      const std::string why = fmt::format(
          "table {} is not captured: {} (repair the file, or remove the table from the "
          "configuration to give its spilled changes up)",
          name, file.error().message);
      RM_LOG_ERROR("cassandra capture: {}", why);
      probe_->AddError("spill");
      SetHealth("spill " + name, why);
      blocked_.insert(spill.id);
      Freeze(fmt::format("the spill of table {} cannot be read", name));
    } else {
      spill.file = std::move(file).value();
      probe_->SetSpillBytes(name, spill.file->size());
      RM_LOG_INFO("cassandra capture: table {}: its spill {} holds {} bytes since {}", name,
                  path.string(), spill.file->size(), spill.file->header().stop.ToString());
    }
    spills_.emplace(name, std::move(spill));
  }
  // Files the state does not name: spills the position never covered (their entries are read
  // again), or removed from the state just before a crash.
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (named.count(it->path()) > 0) continue;
    if (Status s = TableSpill::Remove(it->path()); !s.ok()) {
      RM_LOG_WARN("cassandra capture: {}", s.error().message);
    }
  }
}

Status CassandraCapture::ReplayAcceptedSpills(const std::atomic<bool>& stop) {
  std::vector<std::string> accepted;
  for (const auto& [name, spill] : spills_) {
    if (spill.replay) accepted.push_back(name);
  }
  for (const std::string& name : accepted) {
    if (Status s = ReplaySpill(name, stop); !s.ok()) return s;
    if (stop.load()) return Status::Ok();
  }
  return Status::Ok();
}

Status CassandraCapture::ReplaySpill(const std::string& name, const std::atomic<bool>& stop) {
  Spill& spill = spills_.at(name);
  const fs::path path = spill.file->path();
  RM_LOG_INFO(
      "cassandra capture: table {}: its shape is accepted: producing its {} spilled "
      "bytes of changes since {}",
      name, spill.covered, spill.file->header().stop.ToString());
  std::unique_ptr<Schema> decode;  // the columns of the last schema frame
  uint64_t produced = 0;
  Status s = TableSpill::Replay(
      path, spill.covered,
      {.schema = [&](const std::vector<SpillTable>& tables) -> Status {
         auto next = std::make_unique<Schema>();
         for (const SpillTable& t : tables) {
           TableSchema base;
           base.keyspace = t.keyspace;
           base.name = t.name;
           base.id = Uuid::Parse(t.id);
           auto table = TableFromShape(base, t.shape);
           if (!table.ok()) return table.error();
           if (Status added = next->AddTable(std::move(table).value()); !added.ok()) {
             return added;
           }
         }
         decode = std::move(next);
         return Status::Ok();
       },
       .entry = [&](const SpillEntry& e) -> Status {
         if (decode == nullptr) {
           return Error{"cassandra.spill",
                        fmt::format("spill {}: an entry before any schema", path.string())};
         }
         auto decoded = DecodeMutation(e.bytes, e.messaging_version, *decode);
         if (!decoded.ok() || decoded->unknown_table) {
           // Decoded once already when it was spilled: not expected. Reported, as the reader
           // reports an undecodable entry.
           RM_LOG_ERROR(
               "cassandra capture: spill {}: entry of {} at {}: {}", path.string(), e.file,
               e.position.ToString(),
               decoded.ok() ? "names a table the spill's schema lacks" : decoded.error().message);
           probe_->AddError("spill");
           return Status::Ok();
         }
         Mutation m = std::move(decoded->mutation);
         m.position = e.position;
         m.end_offset = e.end_offset;
         std::erase_if(m.updates, [&](const PartitionUpdate& u) {
           return u.table == nullptr || !u.table->id || *u.table->id != spill.id;
         });
         while (tracker_->InFlight() >= config_.max_in_flight_events) {
           if (stop.load()) return Error{"cassandra.stopped", "stopped during the replay"};
           if (auto f = tracker_->failure()) return *f;
           tracker_->WaitInFlightBelow(config_.max_in_flight_events, config_.poll_interval);
         }
         if (!ProduceEvents(m, e.file)) return sink_error_ ? *sink_error_ : *stop_error_;
         ++produced;
         return Status::Ok();
       }});
  if (!s.ok()) {
    if (s.error().code == "cassandra.stopped") return Status::Ok();
    return s;
  }
  // Every replayed event acknowledged before the spill is given up.
  while (!tracker_->WaitAllAcked(config_.poll_interval)) {
    if (auto f = tracker_->failure()) return *f;
    if (stop.load()) return Status::Ok();
  }
  spills_.erase(name);
  probe_->SetSpillBytes(name, 0);
  if (!SaveState()) {
    return Error{"cassandra.state", "cannot save the state after replaying the spill of " + name};
  }
  if (Status removed = TableSpill::Remove(path); !removed.ok()) {
    // The state no longer names it: the next start removes it.
    RM_LOG_WARN("cassandra capture: {}", removed.error().message);
  }
  RM_LOG_INFO("cassandra capture: table {}: {} spilled mutations produced, spill removed", name,
              produced);
  return Status::Ok();
}

Status CassandraCapture::Run(const std::atomic<bool>& stop) {
  std::error_code ec;
  const fs::file_status st = fs::status(config_.cdc_raw_dir, ec);
  if (!fs::is_directory(st)) {
    const std::string why = st.type() == fs::file_type::not_found ? "does not exist"
                            : ec                                  ? ec.message()
                                                                  : "is not a directory";
    return Error{"cassandra.cdc_raw",
                 fmt::format("cdc_raw dir {}: {}", config_.cdc_raw_dir.string(), why)};
  }
  auto store = PositionStore::Open(config_.state_dir);
  if (!store.ok()) return store.error();
  store_ = std::move(store).value();
  auto loaded = store_->Load();
  if (!loaded.ok()) return loaded.error();
  resume_ = loaded->resume;
  legacy_resume_ = loaded->legacy;
  learned_ = loaded->tables;
  saved_ = resume_;
  for (const CaptureState::Delivered& d : loaded->delivered) {
    SegmentFiles files;
    files.identity = d.segment;
    files.log = config_.cdc_raw_dir / d.segment.file;
    files.id = SegmentIdFromFileName(d.segment.file).value_or(0);
    files.version = VersionFromFileName(d.segment.file);
    if (files.version >= kCommitLogVersion40) {
      files.idx =
          config_.cdc_raw_dir / (d.segment.file.substr(0, d.segment.file.size() - 4) + "_cdc.idx");
    }
    delivered_[d.segment.file] = Delivered{std::move(files), d.bad};
  }
  ApplyLearned();
  LoadSpills(loaded->spills);
  if (legacy_resume_) {
    RM_LOG_WARN(
        "cassandra capture: state in {} has the old format (position {} only): resuming that "
        "segment; every other segment still in cdc_raw is read again, as it may be unread",
        config_.state_dir.string(), resume_->position.ToString());
  }
  if (resume_) {
    probe_->SetPosition(resume_->position.segment_id, resume_->position.offset);
    std::lock_guard lock(health_mu_);
    checkpointed_ = resume_->position;
  }
  RM_LOG_INFO(
      "cassandra capture: following {} from {}", config_.cdc_raw_dir.string(),
      resume_ ? "position " + resume_->position.ToString() : std::string("the oldest segment"));
  auto last_checkpoint = std::chrono::steady_clock::now();
  Status result = Status::Ok();
  if (!spills_.empty() && !schema_observed_) {
    // A spill is replayed before anything else is read, even while cdc_raw stays empty: the
    // tables' shapes are observed at the checkpoint (the first position this run reads).
    StartSchemaGuard(resume_ ? resume_->position : CommitLogPosition{});
    if (!stop_error_ && !sink_error_) result = ReplayAcceptedSpills(stop);
  }
  while (result.ok() && !stop.load()) {
    if (auto f = tracker_->failure()) {
      result = *f;
      break;
    }
    if (sink_error_ || stop_error_) {
      result = sink_error_ ? *sink_error_ : *stop_error_;
      break;
    }
    if (SchemaAccepted()) {
      result = Error{"cassandra.schema_accepted",
                     "an operator accepted a stopped table's schema: the next run produces its "
                     "spilled changes, then reads on from " +
                         (saved_ ? saved_->position.ToString() : std::string("the start"))};
      break;
    }
    const bool progressed = Step(stop);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint >= config_.checkpoint_interval) {
      Checkpoint();
      last_checkpoint = now;
    }
    if (!progressed) SleepUnlessStopped(config_.poll_interval, stop);
  }
  // Stop: wait for the acks of what was produced, save the position they cover, clean up.
  if (result.ok() || result.error().code == "cassandra.schema_accepted") {
    if (auto s = sink_.Flush(config_.shutdown_timeout); !s.ok()) {
      RM_LOG_WARN("cassandra capture: {} (they will be produced again after a restart)",
                  s.error().message);
    }
  } else {
    RM_LOG_ERROR("cassandra capture: stopping: {}", result.error().message);
    // Counted before Health() shows it.
    const std::string& code = result.error().code;
    probe_->AddError(stop_error_ && !sink_error_ ? code.substr(0, code.find('.')) : "sink");
    SetHealth("sink", result.error().message);
  }
  Checkpoint();
  probe_->SetInflight(tracker_->InFlight());
  RM_LOG_INFO("cassandra capture: stopped at {}",
              saved_ ? saved_->position.ToString() : "(no position)");
  return result;
}

}  // namespace rm::cdc::cassandra
