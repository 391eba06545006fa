#include "src-cdc/postgres/capture.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "src-cdc/change_event.h"
#include "src-cdc/postgres/decoder.h"
#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;
using common::Status;
using Clock = std::chrono::steady_clock;

// Catalog look-ups over an ordinary SQL connection.
class SqlCatalog : public Catalog, public ShapeCatalog {
 public:
  explicit SqlCatalog(PgConnection& conn) : conn_(conn) {}

  Result<std::vector<std::string>> PrimaryKeyColumns(uint32_t relation_oid) override {
    auto r = conn_.Exec(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
        "a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        {std::to_string(relation_oid)});
    if (!r.ok()) return r.error();
    std::vector<std::string> out;
    for (const auto& row : r->rows) out.push_back(row[0].value_or(""));
    return out;
  }

  Result<std::optional<TypeInfo>> LookupType(uint32_t type_oid) override {
    auto r = conn_.Exec(
        "SELECT n.nspname, t.typname, t.typtype, t.typelem, t.typcategory, t.typbasetype "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1::oid",
        {std::to_string(type_oid)});
    if (!r.ok()) return r.error();
    if (r->rows.empty()) return std::optional<TypeInfo>();
    const auto& row = r->rows[0];
    TypeInfo info;
    info.oid = type_oid;
    info.name = row[0].value_or("") + "." + row[1].value_or("");
    std::string typtype = row[2].value_or("");
    uint32_t elem = static_cast<uint32_t>(std::stoul(row[3].value_or("0")));
    std::string category = row[4].value_or("");
    uint32_t base = static_cast<uint32_t>(std::stoul(row[5].value_or("0")));
    if (typtype == "e") {
      info.kind = ValueKind::kString;
      info.is_enum = true;
    } else if (category == "A" && elem != 0) {
      info.kind = ValueKind::kArray;
      info.element_oid = elem;
    } else if (typtype == "d" && base != 0) {
      // A domain converts like its base type.
      auto b = LookupBase(base);
      if (!b.ok()) return b.error();
      info.kind = b->kind;
      info.element_oid = b->element_oid;
    } else {
      info.kind = ValueKind::kString;
    }
    return std::optional<TypeInfo>(info);
  }

  Result<std::vector<ColumnFacts>> Columns(uint32_t relation_oid) override {
    auto r = conn_.Exec(
        "SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "a.atthasdef FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT "
        "a.attisdropped ORDER BY a.attnum",
        {std::to_string(relation_oid)});
    if (!r.ok()) return r.error();
    std::vector<ColumnFacts> out;
    for (const auto& row : r->rows) {
      out.push_back({row[0].value_or(""), std::stoi(row[1].value_or("0")), row[2].value_or(""),
                     row[3].value_or("f") == "t", row[4].value_or("f") == "t"});
    }
    return out;
  }

  Result<std::string> TypeName(uint32_t type_oid, int32_t type_modifier) override {
    auto r = conn_.Exec("SELECT format_type($1::oid, $2::int)",
                        {std::to_string(type_oid), std::to_string(type_modifier)});
    if (!r.ok()) return r.error();
    if (r->rows.empty() || !r->rows[0][0]) return std::to_string(type_oid);
    return *r->rows[0][0];
  }

  void set_types(const TypeRegistry* types) { types_ = types; }

 private:
  Result<TypeInfo> LookupBase(uint32_t oid) {
    if (types_ != nullptr) {
      if (const TypeInfo* t = types_->Find(oid)) return *t;
    }
    auto r = LookupType(oid);
    if (!r.ok()) return r.error();
    if (!*r) return TypeInfo{oid, "unknown", ValueKind::kString, 0, false};
    return **r;
  }

  PgConnection& conn_;
  const TypeRegistry* types_ = nullptr;
};

struct SlotState {
  bool exists = false;
  bool active = false;
  std::string active_pid;
  std::string plugin;
  std::string database;
  Lsn confirmed_flush;
};

}  // namespace

// One Run(): the connections and the per-run state.
class PostgresCapture::Impl {
 public:
  Impl(PostgresCapture& owner, const std::atomic<bool>& stop)
      : owner_(owner), cfg_(owner.config_), stop_(stop) {}

  Status Run() {
    auto conn = PgConnection::Connect(owner_.params_);
    if (!conn.ok()) return conn.error();
    sql_.emplace(std::move(*conn));
    catalog_.emplace(*sql_);
    catalog_->set_types(&types_);
    if (auto st = Preflight(); !st.ok()) return st;
    if (auto st = StartSchemaGuard(); !st.ok()) return st;

    if (cfg_.snapshot_mode == SnapshotMode::kInitialOnly) {
      if (auto st = Snapshot("", Lsn()); !st.ok()) return st;
      return WaitSnapshotAcked();
    }

    if (auto st = EnsureStateRow(); !st.ok()) return st;
    auto repl = ReplicationConnection::Connect(owner_.params_);
    if (!repl.ok()) return repl.error();
    repl_.emplace(std::move(*repl));

    auto slot = ReadSlot();
    if (!slot.ok()) return slot.error();
    if (slot->exists && slot->active) {
      return Error{"pg.slot_active",
                   fmt::format("replication slot {} is in use by server process {} (another "
                               "capture running?); stop it first",
                               cfg_.slot, slot->active_pid)};
    }
    if (slot->exists && (slot->plugin != "pgoutput" || slot->database != owner_.params_.dbname)) {
      return Error{"pg.slot_mismatch",
                   fmt::format("replication slot {} uses plugin {} on database {}; expected "
                               "pgoutput on {}",
                               cfg_.slot, slot->plugin, slot->database, owner_.params_.dbname)};
    }

    if (cfg_.snapshot_mode == SnapshotMode::kInitial) {
      auto done = SnapshotCompleted();
      if (!done.ok()) return done.error();
      if (!*done) {
        if (slot->exists) {
          // Nothing was ever streamed from it (no completed snapshot): recreate it to get a
          // snapshot exported at the slot's consistent point.
          RM_LOG_INFO("postgres capture: recreating slot {} for the initial snapshot", cfg_.slot);
          if (auto st = repl_->DropSlot(cfg_.slot); !st.ok()) return st;
        }
        auto created = repl_->CreateLogicalSlot(cfg_.slot, true);
        if (!created.ok()) return created.error();
        if (auto st = Snapshot(created->snapshot_name, created->consistent_point); !st.ok()) {
          return st;
        }
        if (auto st = WaitSnapshotAcked(); !st.ok()) return st;
        if (stop_) return Status::Ok();
        if (auto st = MarkSnapshotCompleted(created->consistent_point); !st.ok()) return st;
      } else if (!slot->exists) {
        return Error{"pg.slot_missing",
                     fmt::format("replication slot {} is missing although the initial snapshot "
                                 "was completed: changes since then are lost. To take a new "
                                 "snapshot, delete the row for slot {} from {}",
                                 cfg_.slot, cfg_.slot, cfg_.heartbeat_table.Qualified())};
      }
    } else if (!slot->exists) {
      auto created = repl_->CreateLogicalSlot(cfg_.slot, false);
      if (!created.ok()) return created.error();
    }
    return Stream();
  }

 private:
  // Loads the schema history and builds the guard (when the pipeline asks for schemas).
  Status StartSchemaGuard() {
    const SchemaConfig& sc = cfg_.schema;
    if (!sc.history && sc.envelope == EnvelopeFormat::kPlain) return Status::Ok();
    SchemaHistory history;
    if (sc.history) {
      if (!owner_.history_reader_) {
        return Error{"schema.history_read", "schema.history is on but no history reader is set"};
      }
      auto h = owner_.history_reader_();
      if (!h.ok()) return h.error();
      history = std::move(*h);
    }
    SchemaGuardOptions opts{sc.history, sc.envelope == EnvelopeFormat::kJsonWithSchema,
                            cfg_.topic_prefix, cfg_.HistoryTopic()};
    guard_.emplace(std::move(opts), std::move(history), types_, *catalog_, owner_.schema_status_);
    return Status::Ok();
  }

  // At a Relation message of a captured table (or a table the snapshot reads): records a new
  // version or stops the table (schema_guard.h). A stop holds the confirmed position at the
  // last boundary before this transaction, so the stopped table's changes are read again.
  Status ObserveSchema(const TableSchema& table, Lsn lsn) {
    if (!guard_) return Status::Ok();
    if (std::find(cfg_.tables.begin(), cfg_.tables.end(), table.name) == cfg_.tables.end()) {
      return Status::Ok();
    }
    auto d = guard_->Observe(table, lsn);
    if (!d.ok()) return d.error();
    for (auto& [key, value] : d->records) {
      if (auto st = EmitRecord(cfg_.HistoryTopic(), key, value); !st.ok()) return st;
    }
    if (d->outcome == SchemaGuard::Outcome::kStopped && !hold_) hold_ = last_boundary_;
    return Status::Ok();
  }

  Status Preflight() {
    auto wal = sql_->Exec("SHOW wal_level");
    if (!wal.ok()) return wal.error();
    std::string level = wal->rows.empty() ? "" : wal->rows[0][0].value_or("");
    if (level != "logical" && cfg_.snapshot_mode != SnapshotMode::kInitialOnly) {
      return Error{"pg.wal_level",
                   fmt::format("wal_level is '{}' on {}: logical decoding needs "
                               "'wal_level = logical' in postgresql.conf and a server restart",
                               level, owner_.params_.Describe())};
    }
    std::vector<std::string> missing;
    for (const auto& t : cfg_.tables) {
      auto r = sql_->Exec("SELECT to_regclass($1)", {t.Quoted()});
      if (!r.ok()) return r.error();
      if (!r->rows[0][0]) missing.push_back(t.Qualified());
    }
    if (!missing.empty()) {
      return Error{
          "pg.missing_table",
          fmt::format("captured table(s) {} do not exist in database {} (or are not "
                      "visible to {})",
                      fmt::join(missing, ", "), owner_.params_.dbname, owner_.params_.user)};
    }
    if (cfg_.snapshot_mode == SnapshotMode::kInitialOnly) return Status::Ok();
    auto hb = sql_->Exec("SELECT to_regclass($1)", {cfg_.heartbeat_table.Quoted()});
    if (!hb.ok()) return hb.error();
    if (!hb->rows[0][0]) {
      return Error{"pg.missing_table",
                   fmt::format("heartbeat table {} does not exist: run provisioning first",
                               cfg_.heartbeat_table.Qualified())};
    }
    auto pub = sql_->Exec(
        "SELECT p.pubname, t.schemaname, t.tablename FROM pg_publication p LEFT JOIN "
        "pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = $1",
        {cfg_.publication});
    if (!pub.ok()) return pub.error();
    if (pub->rows.empty()) {
      return Error{
          "pg.missing_publication",
          fmt::format("publication {} does not exist: run provisioning first", cfg_.publication)};
    }
    std::vector<std::string> unpublished;
    for (const auto& t : cfg_.tables) {
      bool found = false;
      for (const auto& row : pub->rows) {
        if (row[1].value_or("") == t.schema && row[2].value_or("") == t.table) found = true;
      }
      if (!found) unpublished.push_back(t.Qualified());
    }
    if (!unpublished.empty()) {
      return Error{"pg.missing_publication",
                   fmt::format("publication {} does not include {}: run provisioning again",
                               cfg_.publication, fmt::join(unpublished, ", "))};
    }
    return Status::Ok();
  }

  Result<SlotState> ReadSlot() {
    auto r = sql_->Exec(
        "SELECT active, active_pid, plugin, database, confirmed_flush_lsn FROM "
        "pg_replication_slots WHERE slot_name = $1",
        {cfg_.slot});
    if (!r.ok()) return r.error();
    SlotState s;
    if (r->rows.empty()) return s;
    const auto& row = r->rows[0];
    s.exists = true;
    s.active = row[0].value_or("f") == "t";
    s.active_pid = row[1].value_or("");
    s.plugin = row[2].value_or("");
    s.database = row[3].value_or("");
    s.confirmed_flush = Lsn::Parse(row[4].value_or("")).value_or(Lsn());
    return s;
  }

  Status EnsureStateRow() {
    return sql_->Run(
        fmt::format("INSERT INTO {} (slot_name) VALUES ({}) ON CONFLICT (slot_name) DO NOTHING",
                    cfg_.heartbeat_table.Quoted(), QuoteLiteral(cfg_.slot)));
  }

  Result<bool> SnapshotCompleted() {
    auto r = sql_->Exec(fmt::format("SELECT snapshot_completed_at IS NOT NULL FROM {} WHERE "
                                    "slot_name = $1",
                                    cfg_.heartbeat_table.Quoted()),
                        {cfg_.slot});
    if (!r.ok()) return r.error();
    return !r->rows.empty() && r->rows[0][0].value_or("f") == "t";
  }

  Status MarkSnapshotCompleted(Lsn lsn) {
    auto r = sql_->Exec(fmt::format("UPDATE {} SET snapshot_completed_at = now(), snapshot_lsn = "
                                    "$2::pg_lsn WHERE slot_name = $1",
                                    cfg_.heartbeat_table.Quoted()),
                        {cfg_.slot, lsn.ToString()});
    if (!r.ok()) return r.error();
    return Status::Ok();
  }

  // Hands one event's records to the sink, registering each with the tracker first. The
  // table's transforms run first (they may reshape `event`): a filtered event writes nothing
  // (its position may be confirmed), a failed one stops the capture before its position.
  Status Emit(ChangeEvent& event) {
    if (owner_.transforms_) {
      auto outcome = owner_.transforms_->Apply(event);
      if (!outcome.ok()) return outcome.error();
      if (*outcome == transforms::TransformPipeline::Outcome::kFiltered) return Status::Ok();
    }
    records_.clear();
    encoder_.Encode(event, cfg_.tombstones_on_delete, records_);
    for (auto& rec : records_) {
      if (auto st = EmitRecord(rec.topic, std::move(rec.key), std::move(rec.value)); !st.ok()) {
        return st;
      }
    }
    return Status::Ok();
  }

  Status EmitRecord(const std::string& topic, std::optional<std::string> key,
                    std::optional<std::string> value) {
    uint64_t seq = owner_.tracker_->Register();
    auto tracker = owner_.tracker_;
    auto probe = owner_.probe_;
    auto st = owner_.sink_.Produce(topic, std::move(key), std::move(value),
                                   [tracker, probe, seq](Status s) {
                                     probe->add_event_acked(s.ok());
                                     tracker->Ack(seq, s);
                                   });
    if (!st.ok()) {
      tracker->Ack(seq, st);
      return st;
    }
    owner_.probe_->add_event_produced();
    return Status::Ok();
  }

  // Waits while too many records are unacknowledged (bounded memory in the sink).
  Status Backpressure() {
    while (owner_.tracker_->InFlight() >= cfg_.max_in_flight_events && !stop_) {
      if (auto f = owner_.tracker_->failure()) return *f;
      if (repl_ && streaming_) {
        if (auto st = MaybeSendStatus(false); !st.ok()) return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (auto f = owner_.tracker_->failure()) return *f;
    return Status::Ok();
  }

  // Waits until every record handed to the sink is acked: true when they all are, false
  // when `timeout` passed first or, once stopping, the shutdown timeout (leaving without
  // confirming what is not acked). A failed ack is an error.
  Result<bool> WaitAllAcked(Clock::duration timeout) {
    auto deadline = Clock::now() + timeout;
    while (!owner_.tracker_->WaitAllAcked(std::chrono::milliseconds(100))) {
      if (auto f = owner_.tracker_->failure()) return *f;
      if (stop_) deadline = std::min(deadline, Clock::now() + cfg_.shutdown_timeout);
      if (Clock::now() >= deadline) return false;
    }
    if (auto f = owner_.tracker_->failure()) return *f;
    return true;
  }

  // After the last snapshot row was handed to the sink: every row acked, or an error. The
  // snapshot counts as taken only then (initial_only's result, the completion mark in the
  // heartbeat table); rows still unacked at the deadline may be lost, so the run fails and a
  // restart takes the snapshot again.
  Status WaitSnapshotAcked() {
    auto acked = WaitAllAcked(cfg_.snapshot_ack_timeout);
    if (!acked.ok()) return acked.error();
    if (*acked || stop_) return Status::Ok();
    return Error{"pg.snapshot_unacked",
                 fmt::format("{} snapshot record(s) still unacknowledged by the sink after "
                             "snapshot_ack_timeout_ms ({} ms); the snapshot is not recorded as "
                             "complete and is taken again by the next run",
                             owner_.tracker_->InFlight(), cfg_.snapshot_ack_timeout.count())};
  }

  Status Snapshot(const std::string& snapshot_name, Lsn lsn) {
    std::string begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    if (!snapshot_name.empty()) {
      begin += "; SET TRANSACTION SNAPSHOT " + QuoteLiteral(snapshot_name);
    }
    if (auto st = sql_->Run(begin); !st.ok()) {
      return Error{"pg.snapshot", "cannot start the snapshot transaction: " + st.error().message};
    }
    int64_t ts_ms = NowMillis();
    std::optional<ChangeEvent> pending;  // held back one row to flag the last as "last"
    bool first = true;
    Status result = Status::Ok();
    for (const auto& table : cfg_.tables) {
      auto st = SnapshotTable(table, lsn, ts_ms, pending, first);
      if (!st.ok()) {
        result = st;
        break;
      }
      if (stop_) break;
    }
    if (result.ok() && pending && !stop_) {
      pending->source.snapshot = SnapshotFlag::kLast;
      result = Emit(*pending);
    }
    auto end = sql_->Run(result.ok() ? "COMMIT" : "ROLLBACK");
    if (result.ok() && !end.ok()) result = end;
    RM_LOG_INFO("postgres capture: snapshot {} ({} rows)", result.ok() ? "done" : "failed",
                owner_.probe_->snapshot_rows());
    return result;
  }

  Status SnapshotTable(const TableName& name, Lsn lsn, int64_t ts_ms,
                       std::optional<ChangeEvent>& pending, bool& first) {
    auto cols = sql_->Exec(
        "SELECT c.oid, a.attname, a.atttypid, a.atttypmod FROM pg_class c JOIN pg_attribute a ON "
        "a.attrelid = c.oid WHERE c.oid = to_regclass($1) AND a.attnum > 0 AND NOT "
        "a.attisdropped ORDER BY a.attnum",
        {name.Quoted()});
    if (!cols.ok()) return cols.error();
    TableSchema t;
    t.name = name;
    for (const auto& row : cols->rows) {
      t.oid = static_cast<uint32_t>(std::stoul(row[0].value_or("0")));
      t.columns.push_back({row[1].value_or(""),
                           static_cast<uint32_t>(std::stoul(row[2].value_or("0"))),
                           std::stoi(row[3].value_or("-1"))});
    }
    if (auto st = ResolveTypes(types_, *catalog_, t.columns); !st.ok()) return st;
    auto pk = catalog_->PrimaryKeyColumns(t.oid);
    if (!pk.ok()) return pk.error();
    for (const auto& k : *pk) {
      for (size_t i = 0; i < t.columns.size(); ++i) {
        if (t.columns[i].name == k) t.key_columns.push_back(i);
      }
    }
    std::string select_list;
    for (const auto& c : t.columns) {
      select_list += (select_list.empty() ? "" : ", ") + QuoteIdent(c.name);
    }
    std::string key_list;
    std::string key_params;
    for (size_t i = 0; i < t.key_columns.size(); ++i) {
      key_list += (i ? ", " : "") + QuoteIdent(t.columns[t.key_columns[i]].name);
      key_params += fmt::format("{}${}", i ? ", " : "", i + 1);
    }
    const std::string topic = cfg_.TopicFor(name);
    if (auto st = ObserveSchema(t, lsn); !st.ok()) return st;
    if (guard_ && guard_->Stopped(topic)) {
      return Error{"schema.incompatible", owner_.schema_status_->Get()};
    }
    std::shared_ptr<const ConnectSchemas> schemas = guard_ ? guard_->Schemas(topic) : nullptr;
    auto handle_rows = [&](const QueryResult& rows) -> Status {
      for (const auto& row : rows.rows) {
        auto json = RowToJson(types_, t, row);
        if (!json.ok()) return json.error();
        ChangeEvent e;
        e.topic = topic;
        e.op = Operation::kRead;
        e.ts_ms = NowMillis();
        e.source = PostgresSource(cfg_.topic_prefix, owner_.params_.dbname, name, ts_ms,
                                  first ? SnapshotFlag::kFirst : SnapshotFlag::kTrue, std::nullopt,
                                  lsn, Lsn());
        first = false;
        if (!t.key_columns.empty()) {
          Json key = Json::object();
          for (size_t i : t.key_columns) key[t.columns[i].name] = (*json)[t.columns[i].name];
          e.key = std::move(key);
        }
        e.after = std::move(*json);
        e.schemas = schemas;
        owner_.probe_->add_snapshot_row();
        if (pending) {
          if (auto st = Emit(*pending); !st.ok()) return st;
          if (auto st = Backpressure(); !st.ok()) return st;
        }
        pending = std::move(e);
      }
      return Status::Ok();
    };

    if (t.key_columns.empty()) {
      // No primary key: one cursor over the table, fetched in chunks.
      if (auto st = sql_->Run(fmt::format("DECLARE rm_snapshot NO SCROLL CURSOR FOR SELECT {} "
                                          "FROM {}",
                                          select_list, name.Quoted()));
          !st.ok()) {
        return st;
      }
      while (!stop_) {
        auto rows = sql_->Exec(fmt::format("FETCH {} FROM rm_snapshot", cfg_.snapshot_chunk_rows));
        if (!rows.ok()) return rows.error();
        if (auto st = handle_rows(*rows); !st.ok()) return st;
        if (rows->rows.size() < static_cast<size_t>(cfg_.snapshot_chunk_rows)) break;
      }
      return sql_->Run("CLOSE rm_snapshot");
    }

    // Keyset pagination: each page starts after the last key of the previous one.
    std::vector<std::optional<std::string>> last_key;
    while (!stop_) {
      std::string query =
          last_key.empty() ? fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT {}", select_list,
                                         name.Quoted(), key_list, cfg_.snapshot_chunk_rows)
                           : fmt::format("SELECT {} FROM {} WHERE ({}) > ({}) ORDER BY {} LIMIT {}",
                                         select_list, name.Quoted(), key_list, key_params, key_list,
                                         cfg_.snapshot_chunk_rows);
      auto rows = last_key.empty() ? sql_->Exec(query) : sql_->Exec(query, last_key);
      if (!rows.ok()) return rows.error();
      if (auto st = handle_rows(*rows); !st.ok()) return st;
      if (rows->rows.size() < static_cast<size_t>(cfg_.snapshot_chunk_rows)) break;
      last_key.clear();
      for (size_t i : t.key_columns) last_key.push_back(rows->rows.back()[i]);
    }
    return Status::Ok();
  }

  // The highest position that may be confirmed now.
  Lsn Confirmable() const {
    Lsn flush = owner_.tracker_->SafeLsn();
    // A stopped table's first unemitted change must be read again after a restart.
    if (hold_ && *hold_ < flush) flush = *hold_;
    return flush;
  }

  Status MaybeSendStatus(bool force) {
    auto now = Clock::now();
    if (!force && now - last_status_ < cfg_.status_interval) return Status::Ok();
    last_status_ = now;
    Lsn flush = Confirmable();
    if (owner_.confirmed_ < flush) owner_.confirmed_ = flush;
    Lsn write = std::max(received_, owner_.confirmed_);
    owner_.probe_->set_confirmed_flush_lsn(owner_.confirmed_.value());
    owner_.probe_->Tick(now);
    return repl_->SendStatus(write, owner_.confirmed_, owner_.confirmed_, false);
  }

  Status MaybeHeartbeat() {
    if (cfg_.heartbeat_interval.count() == 0) return Status::Ok();
    auto now = Clock::now();
    if (now - last_heartbeat_ < cfg_.heartbeat_interval) return Status::Ok();
    last_heartbeat_ = now;
    auto st = sql_->Run(fmt::format("UPDATE {} SET heartbeat_at = now() WHERE slot_name = {}",
                                    cfg_.heartbeat_table.Quoted(), QuoteLiteral(cfg_.slot)));
    if (st.ok()) owner_.probe_->add_heartbeat();
    return st;
  }

  Status HandleCopyData(const std::string& data, ChangeDecoder& decoder,
                        std::vector<ChangeEvent>& events) {
    auto msg = ParseReplicationMessage(data);
    if (!msg.ok()) return msg.error();
    if (auto* ka = std::get_if<PrimaryKeepalive>(&*msg)) {
      owner_.probe_->set_server_wal_end(ka->wal_end.value());
      // Between transactions everything the server sent has been handed to the sink, so
      // its WAL end is safe once those records are acked (this moves idle slots forward).
      if (!decoder.in_transaction()) AddBoundary(ka->wal_end);
      if (ka->reply_requested) return MaybeSendStatus(true);
      return Status::Ok();
    }
    const auto& x = std::get<XLogData>(*msg);
    received_ = std::max(received_, x.wal_start);
    owner_.probe_->set_received_lsn(received_.value());
    owner_.probe_->set_server_wal_end(x.wal_end.value());
    auto pg = ParsePgOutputMessage(x.data);
    if (!pg.ok()) return pg.error();
    events.clear();
    if (auto st = decoder.Feed(*pg, x.wal_start, events); !st.ok()) return st;
    if (auto* b = std::get_if<BeginMessage>(&*pg)) txn_commit_lsn_ = b->final_lsn;
    if (auto* r = std::get_if<RelationMessage>(&*pg)) {
      if (const TableSchema* t = decoder.Table(r->oid)) {
        // A version applies from the transaction whose commit LSN this is (Relation messages
        // come with no WAL position of their own; commit LSNs order the stream and are what
        // a restart resumes from).
        if (auto st = ObserveSchema(*t, txn_commit_lsn_); !st.ok()) return st;
      }
    }
    for (auto& e : events) {
      if (guard_) {
        if (guard_->Stopped(e.topic)) continue;  // nothing after the change, in no shape
        e.schemas = guard_->Schemas(e.topic);
      }
      if (auto st = Emit(e); !st.ok()) return st;
    }
    if (auto* c = std::get_if<CommitMessage>(&*pg)) {
      AddBoundary(c->end_lsn);
      owner_.probe_->add_transaction();
    }
    return Status::Ok();
  }

  void AddBoundary(Lsn lsn) {
    owner_.tracker_->AddBoundary(lsn);
    last_boundary_ = std::max(last_boundary_, lsn);
  }

  // While a table is stopped: has an operator accepted its shape? Then the stream restarts
  // from the held position (error "pg.schema_accepted", handled by PostgresCapture::Run).
  Status CheckAccepted() {
    if (!guard_ || !guard_->any_stopped() || !owner_.history_reader_) return Status::Ok();
    auto now = Clock::now();
    if (now - last_accept_poll_ < cfg_.schema.accept_poll) return Status::Ok();
    last_accept_poll_ = now;
    auto fresh = owner_.history_reader_();
    if (!fresh.ok()) {
      RM_LOG_WARN("postgres capture: reading the schema history: {}", fresh.error().message);
      return Status::Ok();
    }
    if (!guard_->Accepted(*fresh)) return Status::Ok();
    return Error{"pg.schema_accepted",
                 "an operator accepted a stopped table's schema: streaming again from " +
                     (hold_ ? hold_->ToString() : std::string("the confirmed position"))};
  }

  Status Stream() {
    if (auto st = repl_->StartReplication(cfg_.slot, Lsn(), {cfg_.publication}); !st.ok()) {
      return st;
    }
    streaming_ = true;
    owner_.streamed_ = true;
    owner_.probe_->set_streaming(true);
    RM_LOG_INFO("postgres capture: streaming from slot {} (publication {})", cfg_.slot,
                cfg_.publication);
    DecoderOptions opts{cfg_.topic_prefix, owner_.params_.dbname, cfg_.tables};
    ChangeDecoder decoder(opts, *catalog_, types_);
    std::vector<ChangeEvent> events;
    last_heartbeat_ = Clock::now();
    Status result = Status::Ok();
    while (!stop_) {
      if (auto st = Backpressure(); !st.ok()) {
        result = st;
        break;
      }
      auto data = repl_->ReadMessage(std::chrono::milliseconds(20));
      if (!data.ok()) {
        result = data.error();
        break;
      }
      if (*data) {
        if (auto st = HandleCopyData(**data, decoder, events); !st.ok()) {
          result = st;
          break;
        }
      }
      // Nothing arrived within the read timeout: the capture has caught up (or the server is
      // idle). A position that became safe is confirmed now rather than at the next status
      // interval, so a drained backlog's WAL is released and the slot shows it at once; while
      // messages flow, the interval paces the updates.
      const bool idle_with_news = !*data && owner_.confirmed_ < Confirmable();
      if (auto st = MaybeSendStatus(idle_with_news); !st.ok()) {
        result = st;
        break;
      }
      if (auto st = CheckAccepted(); !st.ok()) {
        result = st;
        break;
      }
      if (!decoder.in_transaction()) {
        if (auto st = MaybeHeartbeat(); !st.ok()) {
          result = st;
          break;
        }
      }
    }
    owner_.probe_->set_streaming(false);
    // Whatever happened, confirm what is safe (acked) before leaving.
    if (result.ok()) {
      // Only a stop ends the loop without an error: the shutdown timeout bounds the wait.
      auto acked = WaitAllAcked(cfg_.shutdown_timeout);
      if (!acked.ok()) result = acked.error();
    }
    auto st = MaybeSendStatus(true);
    st.PermitUnchecked();
    return result;
  }

  PostgresCapture& owner_;
  const CaptureConfig& cfg_;
  const std::atomic<bool>& stop_;
  TypeRegistry types_;
  std::optional<PgConnection> sql_;
  std::optional<SqlCatalog> catalog_;
  std::optional<ReplicationConnection> repl_;
  std::optional<SchemaGuard> guard_;
  // Writes the events' records; its buffers and `records_` are reused from event to event.
  EventEncoder encoder_;
  std::vector<EncodedRecord> records_;
  // Highest boundary handed to the tracker, and the position confirmations stay at (or
  // below) while a table is stopped.
  Lsn last_boundary_;
  std::optional<Lsn> hold_;
  Lsn txn_commit_lsn_;  // of the transaction being received
  Clock::time_point last_accept_poll_{};
  bool streaming_ = false;
  Lsn received_;
  Clock::time_point last_status_{};
  Clock::time_point last_heartbeat_{};
};

PostgresCapture::PostgresCapture(CaptureConfig config, ConnectionParams params, EventSink& sink,
                                 prometheus::Registry* metrics)
    : config_(std::move(config)),
      params_(std::move(params)),
      sink_(sink),
      probe_(std::make_shared<CaptureProbe>()),
      tracker_(std::make_shared<FlushTracker>()) {
  if (!config_.transforms.empty()) {
    std::vector<transforms::CapturedTable> tables;
    for (const auto& t : config_.tables) tables.push_back({t.Qualified(), config_.TopicFor(t)});
    transforms_ = std::make_unique<transforms::TransformPipeline>(
        config_.transforms, tables, metrics ? *metrics : *common::MetricsRegistry());
  }
}

PostgresCapture::~PostgresCapture() = default;

namespace {

// The server went away (restart, crash, cut connection) or still holds the slot for the
// session it lost: worth reconnecting once streaming has worked.
bool ServerWentAway(const std::string& code) {
  return code == "pg.connect" || code == "pg.stream" || code == "pg.stream_ended" ||
         code == "pg.connection_lost" || code == "pg.slot_active";
}

// Sleeps `d` unless `stop` is set first.
void SleepUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

Status PostgresCapture::Run(const std::atomic<bool>& stop) {
  bool restarted = false;
  int slot_busy_retries = 0;
  // Reconnecting after the server went away: since when (the deadline's start) and the backoff.
  std::optional<Clock::time_point> lost_since;
  std::chrono::milliseconds backoff{100};
  for (;;) {
    streamed_ = false;
    Status st = [&] {
      Impl impl(*this, stop);
      return impl.Run();
    }();
    if (st.ok()) return st;
    const std::string& code = st.error().code;
    if (streamed_) {  // this attempt streamed: a later loss starts a new deadline
      lost_since.reset();
      backoff = std::chrono::milliseconds(100);
    }
    if (ServerWentAway(code) && !stop && (streamed_ || lost_since) &&
        config_.reconnect_timeout.count() > 0) {
      if (!lost_since) lost_since = Clock::now();
      if (Clock::now() - *lost_since < config_.reconnect_timeout) {
        // Ride through a server restart rather than exit: a new session resumes from the
        // slot's confirmed position (events after it are sent again: at least once). The
        // records still in flight belong to the old tracker; wait for them first, so the
        // new run starts with every earlier record settled and memory stays bounded.
        RM_LOG_WARN("postgres capture: {} [{}]; reconnecting in {} ms", st.error().message, code,
                    backoff.count());
        SleepUnlessStopped(backoff, stop);
        while (!stop && !tracker_->WaitAllAcked(std::chrono::milliseconds(100))) {
          if (auto f = tracker_->failure()) {
            RM_LOG_ERROR("postgres capture stopped: {}", f->message);
            return *f;
          }
        }
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        tracker_ = std::make_shared<FlushTracker>();
        continue;
      }
      RM_LOG_ERROR(
          "postgres capture: the server stayed unreachable for reconnect_timeout_ms ({} "
          "ms)",
          config_.reconnect_timeout.count());
    }
    if (code == "pg.schema_accepted" && !stop) {
      // Streaming again from the held position: a fresh tracker, as the old one has
      // boundaries past it (late acks of the old run still find theirs).
      RM_LOG_INFO("postgres capture: {}", st.error().message);
      tracker_ = std::make_shared<FlushTracker>();
      restarted = true;
      continue;
    }
    if (restarted && code == "pg.slot_active" && !stop && ++slot_busy_retries < 100) {
      // The previous stream's walsender has not let go of the slot yet.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    RM_LOG_ERROR("postgres capture stopped: {}", st.error().message);
    return st;
  }
}

}  // namespace rm::cdc::postgres
