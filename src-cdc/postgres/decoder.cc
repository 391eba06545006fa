#include "src-cdc/postgres/decoder.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;
using common::Status;

int64_t PgMicrosToUnixMillis(int64_t pg_micros) {
  int64_t unix_micros = pg_micros + kPostgresEpochOffsetMicros;
  return unix_micros >= 0 ? unix_micros / 1000 : -((-unix_micros + 999) / 1000);
}

}  // namespace

Result<Json> RowToJson(const TypeRegistry& types, const TableSchema& table,
                       const std::vector<std::optional<std::string>>& values) {
  if (values.size() != table.columns.size()) {
    return Error{"pg.schema_mismatch",
                 fmt::format("{}: row has {} values but the table has {} columns",
                             table.name.Qualified(), values.size(), table.columns.size())};
  }
  Json row = Json::object();
  for (size_t i = 0; i < values.size(); ++i) {
    const auto& col = table.columns[i];
    if (!values[i]) {
      row[col.name] = nullptr;
      continue;
    }
    auto v = ConvertTextValue(types, col.type_oid, col.type_modifier, *values[i]);
    if (!v.ok()) {
      return Error{v.error().code,
                   fmt::format("{}.{}: {}", table.name.Qualified(), col.name, v.error().message)};
    }
    row[col.name] = std::move(*v);
  }
  return row;
}

Status ResolveTypes(TypeRegistry& types, Catalog& catalog,
                    const std::vector<ColumnSchema>& columns) {
  std::vector<uint32_t> todo;
  for (const auto& c : columns) todo.push_back(c.type_oid);
  // Bounded: element types of arrays are pushed once per array type.
  for (size_t i = 0; i < todo.size() && i < 1000; ++i) {
    uint32_t oid = todo[i];
    const TypeInfo* known = types.Find(oid);
    if (known != nullptr) {
      if (known->kind == ValueKind::kArray && types.Find(known->element_oid) == nullptr) {
        todo.push_back(known->element_oid);
      }
      continue;
    }
    auto info = catalog.LookupType(oid);
    if (!info.ok()) return info.error();
    if (!*info) continue;  // unknown: converted as a string
    if ((*info)->kind == ValueKind::kArray) todo.push_back((*info)->element_oid);
    types.Add(**info);
  }
  return Status::Ok();
}

SourceInfo PostgresSource(const std::string& server_name, const std::string& db,
                          const TableName& table, int64_t ts_ms, SnapshotFlag snapshot,
                          std::optional<uint32_t> xid, Lsn lsn, Lsn last_commit_lsn) {
  SourceInfo s;
  s.connector = "postgresql";
  s.name = server_name;
  s.ts_ms = ts_ms;
  s.snapshot = snapshot;
  s.db = db;
  // Debezium's sequence: [last commit LSN, this event's LSN] as decimal strings, in JSON text:
  // ["<digits>","<digits>"], the first null before any commit (digits need no escaping).
  std::string seq;
  seq.reserve(48);
  if (last_commit_lsn.valid()) {
    seq += "[\"";
    seq += fmt::format_int(last_commit_lsn.value()).c_str();
    seq += "\",\"";
  } else {
    seq += "[null,\"";
  }
  seq += fmt::format_int(lsn.value()).c_str();
  seq += "\"]";
  // Members appended in order to the reserved list (the names are distinct).
  Json::object_t& f = s.fields.get_ref<Json::object_t&>();
  f.reserve(6);
  f.emplace_back("sequence", std::move(seq));
  f.emplace_back("schema", table.schema);
  f.emplace_back("table", table.table);
  f.emplace_back("txId", xid ? Json(*xid) : Json(nullptr));
  f.emplace_back("lsn", lsn.value());
  f.emplace_back("xmin", nullptr);
  return s;
}

ChangeDecoder::ChangeDecoder(DecoderOptions options, Catalog& catalog, TypeRegistry& types)
    : options_(std::move(options)), catalog_(catalog), types_(types) {}

const TableSchema* ChangeDecoder::Table(uint32_t oid) const {
  auto it = tables_.find(oid);
  return it == tables_.end() ? nullptr : &it->second;
}

bool ChangeDecoder::Captured(const TableName& name) const {
  return std::find(options_.captured.begin(), options_.captured.end(), name) !=
         options_.captured.end();
}

Status ChangeDecoder::OnRelation(const RelationMessage& m) {
  ++relation_messages_;
  TableSchema t;
  t.oid = m.oid;
  t.name = TableName{m.schema, m.table};
  t.replica_identity = m.replica_identity;
  for (const auto& c : m.columns) t.columns.push_back({c.name, c.type_oid, c.type_modifier});
  for (size_t i = 0; i < t.columns.size() && t.distinct_names; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (t.columns[j].name == t.columns[i].name) t.distinct_names = false;
    }
  }
  t.topic = options_.server_name + "." + t.name.schema + "." + t.name.table;
  auto st = ResolveTypes(types_, catalog_, t.columns);
  if (!st.ok()) return st;
  // The Kafka key is the primary key (as Debezium), not the replica identity, which under
  // FULL covers every column. Without a primary key, a replica identity index stands in.
  auto pk = catalog_.PrimaryKeyColumns(m.oid);
  if (!pk.ok()) return pk.error();
  for (const auto& name : *pk) {
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (t.columns[i].name == name) t.key_columns.push_back(i);
    }
  }
  if (t.key_columns.empty() && m.replica_identity == 'i') {
    for (size_t i = 0; i < m.columns.size(); ++i) {
      if (m.columns[i].is_key) t.key_columns.push_back(i);
    }
  }
  auto old = tables_.find(m.oid);
  if (old != tables_.end() && Captured(t.name)) {
    std::vector<std::string> before, after;
    for (const auto& c : old->second.columns) before.push_back(c.name);
    for (const auto& c : t.columns) after.push_back(c.name);
    if (before != after) {
      RM_LOG_INFO("postgres capture: schema of {} changed: columns ({}) -> ({})",
                  t.name.Qualified(), fmt::join(before, ", "), fmt::join(after, ", "));
    }
  }
  tables_[m.oid] = std::move(t);
  return Status::Ok();
}

Result<Json> ChangeDecoder::TupleToJson(const TableSchema& t, const TupleData& tuple,
                                        bool key_only_image) {
  if (tuple.size() != t.columns.size()) {
    return Error{"pg.schema_mismatch",
                 fmt::format("{}: tuple has {} columns but the Relation message had {}",
                             t.name.Qualified(), tuple.size(), t.columns.size())};
  }
  Json row = Json::object();
  // The row's members go straight to the end of its (reserved) member list, without the
  // look-up operator[] makes for an existing member: the names are distinct (checked at the
  // Relation message; a relation with a repeated name takes operator[], which keeps the last).
  Json::object_t& members = row.get_ref<Json::object_t&>();
  members.reserve(tuple.size());
  const auto put = [&](const std::string& name, Json value) {
    if (t.distinct_names) {
      members.emplace_back(name, std::move(value));
    } else {
      row[name] = std::move(value);
    }
  };
  for (size_t i = 0; i < tuple.size(); ++i) {
    const auto& col = t.columns[i];
    const auto& v = tuple[i];
    switch (v.kind) {
      case TupleValueKind::kNull:
        put(col.name, nullptr);
        break;
      case TupleValueKind::kUnchangedToast:
        put(col.name, key_only_image ? Json(nullptr) : UnavailableValue(types_, col.type_oid));
        break;
      case TupleValueKind::kText: {
        auto j = ConvertTextValue(types_, col.type_oid, col.type_modifier, v.data);
        if (!j.ok()) {
          return Error{j.error().code,
                       fmt::format("{}.{}: {}", t.name.Qualified(), col.name, j.error().message)};
        }
        put(col.name, std::move(*j));
        break;
      }
      case TupleValueKind::kBinary:
        return Error{"pg.binary_value",
                     fmt::format("{}.{}: binary tuple values are not requested and not "
                                 "supported",
                                 t.name.Qualified(), col.name)};
    }
  }
  return row;
}

std::optional<Json> ChangeDecoder::KeyOf(const TableSchema& t, const Json& row) const {
  if (t.key_columns.empty()) return std::nullopt;
  Json key = Json::object();
  key.get_ref<Json::object_t&>().reserve(t.key_columns.size());
  for (size_t i : t.key_columns) {
    const auto& name = t.columns[i].name;
    auto it = row.find(name);
    key[name] = it == row.end() ? Json(nullptr) : *it;
  }
  return key;
}

ChangeEvent ChangeDecoder::MakeEvent(const TableSchema& t, Operation op, Lsn lsn) {
  ChangeEvent e;
  e.topic = t.topic;
  e.op = op;
  e.ts_ms = NowMillis();
  e.source = PostgresSource(options_.server_name, options_.db, t.name, commit_ts_ms_,
                            SnapshotFlag::kFalse, xid_, lsn, last_commit_lsn_);
  return e;
}

Status ChangeDecoder::Feed(const PgOutputMessage& message, Lsn lsn, std::vector<ChangeEvent>& out) {
  auto table_for = [this](uint32_t oid, std::string_view what) -> Result<const TableSchema*> {
    auto it = tables_.find(oid);
    if (it == tables_.end()) {
      return Error{"pg.unknown_relation",
                   fmt::format("{} for relation {} before its Relation message", what, oid)};
    }
    return &it->second;
  };

  if (auto* m = std::get_if<BeginMessage>(&message)) {
    in_transaction_ = true;
    xid_ = m->xid;
    commit_ts_ms_ = PgMicrosToUnixMillis(m->commit_time_us);
    return Status::Ok();
  }
  if (auto* m = std::get_if<CommitMessage>(&message)) {
    in_transaction_ = false;
    last_commit_lsn_ = m->commit_lsn;
    return Status::Ok();
  }
  if (auto* m = std::get_if<RelationMessage>(&message)) return OnRelation(*m);
  if (auto* m = std::get_if<TypeMessage>(&message)) {
    // The Type message names the type; its kind (enum, domain, array) comes from the catalog.
    if (types_.Find(m->oid) == nullptr) {
      auto info = catalog_.LookupType(m->oid);
      if (!info.ok()) return info.error();
      if (*info) types_.Add(**info);
    }
    return Status::Ok();
  }
  if (auto* m = std::get_if<InsertMessage>(&message)) {
    auto t = table_for(m->relation_oid, "Insert");
    if (!t.ok()) return t.error();
    if (!Captured((*t)->name)) return Status::Ok();
    auto row = TupleToJson(**t, m->new_tuple, false);
    if (!row.ok()) return row.error();
    ChangeEvent e = MakeEvent(**t, Operation::kCreate, lsn);
    e.key = KeyOf(**t, *row);
    e.after = std::move(*row);
    out.push_back(std::move(e));
    return Status::Ok();
  }
  if (auto* m = std::get_if<UpdateMessage>(&message)) {
    auto t = table_for(m->relation_oid, "Update");
    if (!t.ok()) return t.error();
    if (!Captured((*t)->name)) return Status::Ok();
    auto after = TupleToJson(**t, m->new_tuple, false);
    if (!after.ok()) return after.error();
    std::optional<Json> before;
    if (m->old_tuple) {
      auto b = TupleToJson(**t, *m->old_tuple, m->old_kind == 'K');
      if (!b.ok()) return b.error();
      before = std::move(*b);
    }
    auto new_key = KeyOf(**t, *after);
    auto old_key = before ? KeyOf(**t, *before) : new_key;
    if (old_key != new_key) {
      // Primary key changed: Debezium emits a delete of the old key and a create of the new.
      ChangeEvent d = MakeEvent(**t, Operation::kDelete, lsn);
      d.key = old_key;
      d.before = before;
      out.push_back(std::move(d));
      ChangeEvent c = MakeEvent(**t, Operation::kCreate, lsn);
      c.key = new_key;
      c.after = std::move(*after);
      out.push_back(std::move(c));
      return Status::Ok();
    }
    ChangeEvent e = MakeEvent(**t, Operation::kUpdate, lsn);
    e.key = new_key;
    // Only a whole old row is a before image; an old key alone is not (Debezium: null).
    if (m->old_kind == 'O') e.before = std::move(before);
    e.after = std::move(*after);
    out.push_back(std::move(e));
    return Status::Ok();
  }
  if (auto* m = std::get_if<DeleteMessage>(&message)) {
    auto t = table_for(m->relation_oid, "Delete");
    if (!t.ok()) return t.error();
    if (!Captured((*t)->name)) return Status::Ok();
    auto before = TupleToJson(**t, m->old_tuple, m->old_kind == 'K');
    if (!before.ok()) return before.error();
    ChangeEvent e = MakeEvent(**t, Operation::kDelete, lsn);
    e.key = KeyOf(**t, *before);
    e.before = std::move(*before);
    out.push_back(std::move(e));
    return Status::Ok();
  }
  if (auto* m = std::get_if<TruncateMessage>(&message)) {
    for (uint32_t oid : m->relation_oids) {
      auto t = table_for(oid, "Truncate");
      if (!t.ok()) return t.error();
      if (!Captured((*t)->name)) continue;
      out.push_back(MakeEvent(**t, Operation::kTruncate, lsn));
    }
    return Status::Ok();
  }
  // Origin and logical decoding messages carry no row changes.
  return Status::Ok();
}

}  // namespace rm::cdc::postgres
