#include "src-cdc/schema_evolution.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "src-cdc/connect_envelope.h"

namespace rm::cdc {

namespace {

// The version after `latest` (nullptr: the table's first), from `position` on; no shape yet.
SchemaVersion NextVersion(const std::string& table, const SchemaVersion* latest,
                          const std::string& position, uint64_t position_value) {
  SchemaVersion next;
  next.table = table;
  next.version = latest ? latest->version + 1 : 1;
  next.position = position;
  next.position_value = position_value;
  return next;
}

}  // namespace

void ReadSchemaConfig(common::YamlFieldReader& r, const YAML::Node& node, const std::string& path,
                      SchemaConfig& s) {
  if (!node) return;
  if (!r.IsMap(node, path)) return;
  r.CheckKeys(node, path, {"envelope", "history", "history_topic", "accept_poll_ms"});
  r.GetEnum(
      node, path, "envelope",
      {{"plain", EnvelopeFormat::kPlain}, {"json_with_schema", EnvelopeFormat::kJsonWithSchema}},
      s.envelope);
  r.Get(node, path, "history", s.history);
  r.Get(node, path, "history_topic", s.history_topic);
  r.GetMillis(node, path, "accept_poll_ms", s.accept_poll);
  if (s.accept_poll.count() < 1) r.Problem(path + ".accept_poll_ms", "must be at least 1");
}

std::vector<SchemaViolation> CompareShapes(const TableShape& before, const TableShape& after,
                                           const TypeChangeRule& type_change) {
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
      } else if (auto p = type_change(o, *n)) {
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

std::string DescribeViolations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& x : violations) {
    if (!out.empty()) out += "; ";
    out += fmt::format("column {}: rule {}: {}", x.column, x.rule, x.detail);
  }
  return out;
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

SchemaEvolution::SchemaEvolution(SchemaEvolutionOptions options, SchemaHistory history,
                                 std::shared_ptr<SchemaStatus> status)
    : options_(std::move(options)), history_(std::move(history)), status_(std::move(status)) {
  SetProblem();
}

void SchemaEvolution::Use(const std::string& topic, const TableShape& shape, int version) {
  TableState& st = tables_[topic];
  if (st.schemas && st.version == version && version > 0) return;
  st.version = version;
  if (options_.connect_schemas) {
    st.schemas = options_.build_schemas
                     ? options_.build_schemas(topic, shape, version)
                     : BuildConnectSchemas(topic, shape, version, options_.source_schema);
  }
}

void SchemaEvolution::SetProblem() {
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

std::optional<SchemaEvolution::Decision> SchemaEvolution::IfStopped(
    const std::string& topic) const {
  auto it = stopped_.find(topic);
  if (it == stopped_.end()) return std::nullopt;
  Decision d;
  d.outcome = Outcome::kStopped;
  d.error = it->second.error;
  return d;
}

SchemaEvolution::Decision SchemaEvolution::Observe(const std::string& name,
                                                   const std::string& topic,
                                                   const TableShape& shape,
                                                   const std::string& position,
                                                   uint64_t position_value) {
  if (auto d = IfStopped(topic)) return *d;
  Decision d;
  if (!options_.history) {
    Use(topic, shape, 0);
    return d;
  }
  const SchemaVersion* latest = history_.Latest(name);
  if (latest != nullptr && latest->shape == shape && !latest->dropped) {
    Use(topic, latest->shape, latest->version);
    return d;
  }
  SchemaVersion next = NextVersion(name, latest, position, position_value);
  next.shape = shape;
  if (latest != nullptr && !latest->dropped) {
    auto violations = CompareShapes(latest->shape, shape, options_.type_change);
    if (!violations.empty()) {
      const SchemaPending* accepted = history_.Accepted(name);
      if (accepted != nullptr && accepted->shape == shape) {
        next.accepted = true;
        RM_LOG_WARN(
            "{} capture: table {}: incompatible change at {} accepted by an operator ({}); "
            "version {} applies from there",
            options_.connector, name, next.position, DescribeViolations(violations), next.version);
      } else {
        SchemaPending p;
        p.table = name;
        p.position = next.position;
        p.position_value = next.position_value;
        p.shape = shape;
        p.error = fmt::format(
            "table {} stopped at {} {}: incompatible schema change (version {} -> new shape): "
            "{}. Nothing of it is emitted after that position; after the consumers are ready, "
            "run `regionmirror cdc {} accept-schema --table {}`",
            name, options_.position_name, next.position, latest->version,
            DescribeViolations(violations), options_.connector, name);
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
        RM_LOG_ERROR("{} capture: {}", options_.connector, p.error);
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
  RM_LOG_INFO("{} capture: table {} schema version {} from {} {}", options_.connector, name,
              next.version, options_.position_name, next.position);
  return d;
}

SchemaEvolution::Decision SchemaEvolution::Drop(const std::string& name, const std::string& topic,
                                                const std::string& position,
                                                uint64_t position_value) {
  if (auto d = IfStopped(topic)) return *d;
  Decision d;
  tables_.erase(topic);
  if (!options_.history) return d;
  const SchemaVersion* latest = history_.Latest(name);
  if (latest != nullptr && latest->dropped && latest->position == position) return d;
  SchemaVersion closed = NextVersion(name, latest, position, position_value);
  closed.dropped = true;
  if (latest != nullptr) closed.shape = latest->shape;
  history_.Add(closed);
  auto [k, v] = EncodeVersionRecord(closed);
  d.records.push_back({k, v});
  d.outcome = Outcome::kNewVersion;
  RM_LOG_WARN("{} capture: table {} dropped at {} {}: its schema history is closed (version {})",
              options_.connector, name, options_.position_name, position, closed.version);
  return d;
}

bool SchemaEvolution::Stopped(const std::string& topic) const { return stopped_.count(topic) > 0; }

std::shared_ptr<const ConnectSchemas> SchemaEvolution::Schemas(const std::string& topic) const {
  auto it = tables_.find(topic);
  return it == tables_.end() ? nullptr : it->second.schemas;
}

int SchemaEvolution::Version(const std::string& topic) const {
  auto it = tables_.find(topic);
  return it == tables_.end() ? 0 : it->second.version;
}

bool SchemaEvolution::Accepted(const SchemaHistory& fresh) const {
  for (const auto& [topic, stop] : stopped_) {
    const SchemaPending* a = fresh.Accepted(stop.table);
    if (a != nullptr && a->shape == stop.shape) return true;
  }
  return false;
}

int AcceptPendingSchema(const common::KafkaProperties& properties, const std::string& history_topic,
                        const std::string& table, const std::string& position_name,
                        std::chrono::milliseconds accept_poll, std::ostream& out) {
  using namespace std::chrono_literals;
  auto history = ReadSchemaHistory(properties, history_topic, 30s);
  if (!history.ok()) {
    fmt::print(out, "cannot read the schema history {}: {}\n", history_topic,
               history.error().message);
    return 1;
  }
  const SchemaPending* pending = history->Pending(table);
  if (pending == nullptr) {
    const SchemaVersion* latest = history->Latest(table);
    fmt::print(out, "table {} is not stopped (no pending schema change in {}); {}\n", table,
               history_topic,
               latest ? fmt::format("its current version is {} (from {} {})", latest->version,
                                    position_name, latest->position)
                      : std::string("it has no recorded version yet"));
    return 1;
  }
  fmt::print(out, "{}\n", pending->error);
  auto [key, value] = EncodeAcceptRecord(*pending);
  auto st = WriteSchemaHistoryRecords(properties, history_topic, {{key, value}}, 30s);
  if (!st.ok()) {
    fmt::print(out, "writing the acceptance to {} failed: {}\n", history_topic, st.error().message);
    return 1;
  }
  fmt::print(out,
             "accepted the shape of {} at {} {}: the capture records it as the next version and "
             "streams the table again from there (within {} ms when it is running)\n",
             table, position_name, pending->position, accept_poll.count());
  return 0;
}

}  // namespace rm::cdc
