#include "src-cdc/postgres/schema_guard.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "common/log.h"
#include "src-cdc/connect_envelope.h"
#include "src-cdc/postgres/migration_check.h"

namespace rm::cdc::postgres {

namespace {

using common::Result;

Json Named(const std::string& type, const std::string& name) {
  Json j = Json::object();
  j["type"] = type;
  j["name"] = name;
  j["version"] = 1;
  return j;
}

Json Plain(const std::string& type) {
  Json j = Json::object();
  j["type"] = type;
  return j;
}

// The message's view of the columns (names, types) equals the shape's.
bool SameColumns(const TableSchema& t, const TableShape& shape) {
  if (t.columns.size() != shape.columns.size()) return false;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const auto& a = t.columns[i];
    const auto& b = shape.columns[i];
    if (a.name != b.name || a.type_oid != b.type_oid || a.type_modifier != b.type_modifier) {
      return false;
    }
  }
  return true;
}

std::string Describe(const std::vector<SchemaViolation>& v) {
  std::string out;
  for (const auto& x : v) {
    if (!out.empty()) out += "; ";
    out += fmt::format("column {}: rule {}: {}", x.column, x.rule, x.detail);
  }
  return out;
}

}  // namespace

std::vector<SchemaViolation> CompareShapes(const TableShape& before, const TableShape& after) {
  std::vector<SchemaViolation> out;
  std::vector<std::string> renamed_to;
  for (const auto& o : before.columns) {
    const ColumnShape* n = after.Find(o.name);
    if (n == nullptr) {
      const ColumnShape* same_place = nullptr;
      for (const auto& c : after.columns) {
        if (o.attnum > 0 && c.attnum == o.attnum && before.Find(c.name) == nullptr) {
          same_place = &c;
        }
      }
      if (same_place != nullptr) {
        renamed_to.push_back(same_place->name);
        out.push_back({o.name, "rename_column",
                       fmt::format("renamed to {}{}: consumers see a field disappear and another "
                                   "appear",
                                   same_place->name, o.key ? " (a primary key column)" : "")});
      } else if (o.key) {
        out.push_back(
            {o.name, "drop_key_column", "primary key column dropped: the Kafka key changes"});
      } else {
        out.push_back({o.name, "drop_column", "dropped: consumers lose the field"});
      }
      continue;
    }
    if (o.optional && !n->optional) {
      out.push_back({o.name, "set_not_null",
                     "made NOT NULL: events with NULL already exist downstream, and consumers "
                     "built from the old schema reject the new constraint"});
    }
    if (o.type != n->type) {
      if (o.key) {
        out.push_back({o.name, "key_change",
                       fmt::format("primary key column retyped {} -> {}: the Kafka key changes",
                                   o.type, n->type)});
      } else if (auto p = ColumnTypeChangeProblem(o.type, n->type)) {
        out.push_back({o.name, "type_change", *p});
      }
    }
    if (o.key != n->key) {
      out.push_back({o.name, "key_change",
                     o.key ? "no longer part of the primary key: the Kafka key changes"
                           : "now part of the primary key: the Kafka key changes"});
    }
  }
  for (const auto& n : after.columns) {
    if (before.Find(n.name) != nullptr) continue;
    if (std::find(renamed_to.begin(), renamed_to.end(), n.name) != renamed_to.end()) continue;
    if (!n.optional && !n.has_default) {
      out.push_back({n.name, "add_required_column",
                     "added NOT NULL without DEFAULT: consumers of earlier events have no value "
                     "for it"});
    }
    if (n.key) {
      out.push_back({n.name, "key_change", "added to the primary key: the Kafka key changes"});
    }
  }
  return out;
}

Json ConnectFieldSchema(const TypeRegistry& types, uint32_t type_oid, int32_t type_modifier) {
  const TypeInfo* t = types.Find(type_oid);
  if (t == nullptr) return Plain("string");
  switch (t->kind) {
    case ValueKind::kInteger:
      return Plain(t->name == "int2" ? "int16" : t->name == "int4" ? "int32" : "int64");
    case ValueKind::kFloat:
      return Plain(t->name == "float4" ? "float" : "double");
    case ValueKind::kBool:
      return Plain("boolean");
    case ValueKind::kDecimalString:
      return Plain("string");
    case ValueKind::kString:
      if (t->is_enum) return Named("string", "io.debezium.data.Enum");
      if (t->name == "uuid") return Named("string", "io.debezium.data.Uuid");
      if (t->name == "xml") return Named("string", "io.debezium.data.Xml");
      return Plain("string");
    case ValueKind::kJsonText:
      return Named("string", "io.debezium.data.Json");
    case ValueKind::kBytes:
      return Plain("bytes");
    case ValueKind::kDate:
      return Named("int32", "io.debezium.time.Date");
    case ValueKind::kTime:
      if (type_modifier >= 0 && type_modifier <= 3) {
        return Named("int32", "io.debezium.time.Time");
      }
      return Named("int64", "io.debezium.time.MicroTime");
    case ValueKind::kTimeTz:
      return Named("string", "io.debezium.time.ZonedTime");
    case ValueKind::kTimestamp:
      if (type_modifier >= 0 && type_modifier <= 3) {
        return Named("int64", "io.debezium.time.Timestamp");
      }
      return Named("int64", "io.debezium.time.MicroTimestamp");
    case ValueKind::kTimestampTz:
      return Named("string", "io.debezium.time.ZonedTimestamp");
    case ValueKind::kInterval:
      return Named("int64", "io.debezium.time.MicroDuration");
    case ValueKind::kArray: {
      Json items = ConnectFieldSchema(types, t->element_oid, type_modifier);
      items["optional"] = true;
      Json j = Plain("array");
      j["items"] = std::move(items);
      return j;
    }
  }
  return Plain("string");
}

TableShape BuildShape(const TableSchema& table, const std::vector<std::string>& type_names,
                      const std::vector<ColumnFacts>& facts, const TypeRegistry& types,
                      const TableShape* previous) {
  TableShape shape;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const auto& c = table.columns[i];
    ColumnShape s;
    s.name = c.name;
    s.type_oid = c.type_oid;
    s.type_modifier = c.type_modifier;
    s.type = i < type_names.size() ? type_names[i] : std::to_string(c.type_oid);
    bool known = false;
    for (const auto& f : facts) {
      if (f.name != c.name) continue;
      known = true;
      s.attnum = f.attnum;
      s.optional = !f.not_null;
      s.has_default = f.has_default;
    }
    const ColumnShape* before = previous ? previous->Find(c.name) : nullptr;
    if (!known && before != nullptr && before->type_oid == c.type_oid &&
        before->type_modifier == c.type_modifier) {
      // Dropped or renamed since the message was written: as it was.
      s.attnum = before->attnum;
      s.optional = before->optional;
      s.has_default = before->has_default;
    }
    s.key =
        std::find(table.key_columns.begin(), table.key_columns.end(), i) != table.key_columns.end();
    s.connect = ConnectFieldSchema(types, c.type_oid, c.type_modifier);
    s.connect["optional"] = s.optional;
    shape.columns.push_back(std::move(s));
  }
  return shape;
}

void SchemaStatus::Set(std::string problem) {
  std::lock_guard lock(mu_);
  problem_ = std::move(problem);
}

std::string SchemaStatus::Get() const {
  std::lock_guard lock(mu_);
  return problem_;
}

void SchemaStatus::SetStopped(std::vector<StoppedTable> stopped) {
  std::lock_guard lock(mu_);
  stopped_ = std::move(stopped);
}

std::vector<SchemaStatus::StoppedTable> SchemaStatus::Stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

void SchemaStatus::CountIncompatible(const std::string& table) {
  std::lock_guard lock(mu_);
  ++incompatible_[table];
}

std::map<std::string, uint64_t> SchemaStatus::IncompatibleChanges() const {
  std::lock_guard lock(mu_);
  return incompatible_;
}

SchemaGuard::SchemaGuard(SchemaGuardOptions options, SchemaHistory history, TypeRegistry& types,
                         ShapeCatalog& catalog, std::shared_ptr<SchemaStatus> status)
    : options_(std::move(options)),
      history_(std::move(history)),
      types_(types),
      catalog_(catalog),
      status_(std::move(status)) {
  SetProblem();
}

void SchemaGuard::Use(const std::string& topic, const TableShape& shape, int version) {
  TableState& st = tables_[topic];
  if (st.schemas && st.version == version && version > 0) return;
  st.version = version;
  if (options_.connect_schemas) {
    st.schemas = BuildConnectSchemas(topic, shape, version, PostgresSourceSchema());
  }
}

Result<std::vector<std::string>> SchemaGuard::TypeNames(const TableSchema& table) {
  std::vector<std::string> out;
  for (const auto& c : table.columns) {
    auto key = std::make_pair(c.type_oid, c.type_modifier);
    auto it = type_names_.find(key);
    if (it == type_names_.end()) {
      auto name = catalog_.TypeName(c.type_oid, c.type_modifier);
      if (!name.ok()) return name.error();
      it = type_names_.emplace(key, *name).first;
    }
    out.push_back(it->second);
  }
  return out;
}

void SchemaGuard::SetProblem() {
  std::string p;
  std::vector<SchemaStatus::StoppedTable> stopped;
  for (const auto& [topic, stop] : stopped_) {
    if (!p.empty()) p += "; ";
    p += stop.error;
    stopped.push_back({stop.table, stop.rules});
  }
  status_->Set(std::move(p));
  status_->SetStopped(std::move(stopped));
}

Result<SchemaGuard::Decision> SchemaGuard::Observe(const TableSchema& table, Lsn position) {
  const std::string topic =
      options_.topic_prefix + "." + table.name.schema + "." + table.name.table;
  const std::string name = table.name.Qualified();
  Decision d;
  if (stopped_.count(topic)) {
    d.outcome = Outcome::kStopped;
    d.error = stopped_[topic].error;
    return d;
  }
  if (options_.history) {
    // Replay: a position the history already covers gets the version it had then.
    const SchemaVersion* latest = history_.Latest(name);
    if (latest != nullptr && position.value() <= latest->position_value) {
      const SchemaVersion* at = history_.At(name, position.value());
      if (at != nullptr && SameColumns(table, at->shape)) {
        Use(topic, at->shape, at->version);
        return d;
      }
    }
  }
  auto facts = catalog_.Columns(table.oid);
  if (!facts.ok()) return facts.error();
  auto type_names = TypeNames(table);
  if (!type_names.ok()) return type_names.error();
  const SchemaVersion* newest = options_.history ? history_.Latest(name) : nullptr;
  TableShape shape =
      BuildShape(table, *type_names, *facts, types_, newest ? &newest->shape : nullptr);
  if (!options_.history) {
    Use(topic, shape, 0);
    return d;
  }
  const SchemaVersion* latest = history_.Latest(name);
  if (latest != nullptr && latest->shape == shape) {
    Use(topic, latest->shape, latest->version);
    return d;
  }
  SchemaVersion next;
  next.table = name;
  next.version = latest ? latest->version + 1 : 1;
  next.position = position.ToString();
  next.position_value = position.value();
  next.shape = shape;
  if (latest != nullptr) {
    auto violations = CompareShapes(latest->shape, shape);
    if (!violations.empty()) {
      const SchemaPending* accepted = history_.Accepted(name);
      if (accepted != nullptr && accepted->shape == shape) {
        next.accepted = true;
        RM_LOG_WARN(
            "postgres capture: table {}: incompatible change at {} accepted by an operator "
            "({}); version {} applies from there",
            name, next.position, Describe(violations), next.version);
      } else {
        SchemaPending p;
        p.table = name;
        p.position = next.position;
        p.position_value = next.position_value;
        p.shape = shape;
        p.error = fmt::format(
            "table {} stopped at LSN {}: incompatible schema change (version {} -> new shape): "
            "{}. Nothing of it is emitted after that position; after the consumers are ready, "
            "run `regionmirror cdc postgres accept-schema --table {}`",
            name, next.position, latest->version, Describe(violations), name);
        std::set<std::string> rules;
        for (const auto& v : violations) rules.insert(v.rule);
        stopped_[topic] = Stop{name, shape, p.error, fmt::format("{}", fmt::join(rules, ","))};
        // Counted once per change: a restart meeting the same pending shape at the same
        // position (the history has it) does not count it again.
        const SchemaPending* known = history_.Pending(name);
        if (known == nullptr || !(known->shape == shape) ||
            known->position_value != p.position_value) {
          status_->CountIncompatible(name);
        }
        history_.SetPending(p);
        auto [k, v] = EncodePendingRecord(p);
        d.records.push_back({k, v});
        d.outcome = Outcome::kStopped;
        d.error = p.error;
        SetProblem();
        RM_LOG_ERROR("postgres capture: {}", p.error);
        return d;
      }
    }
  }
  history_.Add(next);
  auto [k, v] = EncodeVersionRecord(next);
  d.records.push_back({k, v});
  if (next.accepted || history_.Pending(name) != nullptr) {
    history_.ClearPending(name);
    d.records.push_back({PendingRecordKey(name), std::nullopt});
  }
  d.outcome = Outcome::kNewVersion;
  Use(topic, shape, next.version);
  RM_LOG_INFO("postgres capture: table {} schema version {} from LSN {}", name, next.version,
              next.position);
  return d;
}

bool SchemaGuard::Stopped(const std::string& topic) const { return stopped_.count(topic) > 0; }

std::shared_ptr<const ConnectSchemas> SchemaGuard::Schemas(const std::string& topic) const {
  auto it = tables_.find(topic);
  return it == tables_.end() ? nullptr : it->second.schemas;
}

int SchemaGuard::Version(const std::string& topic) const {
  auto it = tables_.find(topic);
  return it == tables_.end() ? 0 : it->second.version;
}

bool SchemaGuard::Accepted(const SchemaHistory& fresh) const {
  for (const auto& [topic, stop] : stopped_) {
    const SchemaPending* a = fresh.Accepted(stop.table);
    if (a != nullptr && a->shape == stop.shape) return true;
  }
  return false;
}

}  // namespace rm::cdc::postgres
