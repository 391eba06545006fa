#include "src-cdc/cassandra/change_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace rm::cdc::cassandra {
namespace {

using common::Error;

Json CellJson(Json value, std::optional<int64_t> deletion_ts_micros) {
  Json j = Json::object();
  j["value"] = std::move(value);
  j["deletion_ts"] = deletion_ts_micros ? Json(*deletion_ts_micros) : Json(nullptr);
  j["set"] = true;
  return j;
}

int64_t SecondsToMicros(int32_t seconds) { return int64_t{seconds} * 1'000'000; }

// Cassandra's ClusteringPrefix.Kind names, as Debezium writes them in `method`.
const char* BoundName(RangeTombstoneMarker::Kind kind) {
  using K = RangeTombstoneMarker::Kind;
  switch (kind) {
    case K::kExclusiveEnd:
      return "EXCL_END_BOUND";
    case K::kInclusiveStart:
      return "INCL_START_BOUND";
    case K::kExclusiveEndInclusiveStartBoundary:
      return "EXCL_END_INCL_START_BOUNDARY";
    case K::kInclusiveEndExclusiveStartBoundary:
      return "INCL_END_EXCL_START_BOUNDARY";
    case K::kInclusiveEnd:
      return "INCL_END_BOUND";
    case K::kExclusiveStart:
      return "EXCL_START_BOUND";
  }
  return "?";
}

// One side of a range deletion: the kind of bound and its clustering prefix.
struct Bound {
  const char* method;
  const ClusteringValues* clustering;
};

class Builder {
 public:
  Builder(const Mutation& m, const EventSourceContext& ctx, std::vector<Error>* errors)
      : m_(m), ctx_(ctx), errors_(errors) {}

  std::vector<ChangeEvent> Build() {
    for (const PartitionUpdate& u : m_.updates) BuildUpdate(u);
    return std::move(out_);
  }

 private:
  void Report(const PartitionUpdate& u, const std::string& what) {
    if (errors_ == nullptr) return;
    errors_->push_back(Error{"cassandra.event",
                             fmt::format("{}: entry at {}: table {}: {}", ctx_.file_name,
                                         m_.position.ToString(), u.table->QualifiedName(), what)});
  }

  void BuildUpdate(const PartitionUpdate& u) {
    const TableSchema& t = *u.table;
    auto pk = u.DecodePartitionKey();
    if (!pk.ok()) {
      Report(u, "partition key: " + pk.error().message);
      return;
    }
    if (pk->size() != t.partition_key.size()) {
      Report(u, "partition key has the wrong number of components");
      return;
    }
    pk_ = Json::object();
    for (size_t i = 0; i < t.partition_key.size(); ++i) {
      pk_[t.columns[t.partition_key[i]].name] = Json(pk.value()[i].ToJson());
    }
    if (!u.partition_deletion.is_live()) PartitionDeletion(u);
    RangeDeletions(u);
    if (u.static_row) RowEvents(u, *u.static_row);
    for (const Row& row : u.rows) RowEvents(u, row);
  }

  ChangeEvent Event(const PartitionUpdate& u, Operation op, const char* code, int64_t ts_micros) {
    ChangeEvent e;
    e.topic = TopicFor(ctx_.topic_prefix, *u.table);
    e.op = op;
    e.op_code = code;
    e.source.connector = "cassandra";
    e.source.name = ctx_.topic_prefix;
    e.source.ts_ms = ts_micros / 1000;
    e.source.fields["cluster"] = ctx_.cluster;
    e.source.fields["file"] = ctx_.file_name;
    e.source.fields["pos"] = m_.position.offset;
    e.source.fields["segment_id"] = m_.position.segment_id;
    e.source.fields["keyspace"] = u.table->keyspace;
    e.source.fields["table"] = u.table->name;
    e.ts_ms = ctx_.processed_ms;
    return e;
  }

  // Key: partition key columns, then clustering columns (null where `clustering` has no value).
  // Also fills the key columns of `after` (set, no deletion).
  bool KeyAndAfter(const PartitionUpdate& u, const ClusteringValues* clustering, Json& key,
                   Json& after) {
    const TableSchema& t = *u.table;
    key = Json::object();
    after = Json::object();
    for (const auto& [name, value] : pk_.items()) {
      key[name] = value;
      after[name] = CellJson(value, std::nullopt);
    }
    for (size_t i = 0; i < t.clustering.size(); ++i) {
      const ColumnSchema& c = t.columns[t.clustering[i]];
      Json v = nullptr;
      if (clustering != nullptr && i < clustering->size() && (*clustering)[i]) {
        auto decoded = DecodeValue(c.type, *(*clustering)[i]);
        if (!decoded.ok()) {
          Report(u, fmt::format("clustering column {}: {}", c.name, decoded.error().message));
          return false;
        }
        v = Json(decoded->ToJson());
      }
      key[c.name] = v;
      if (clustering != nullptr) after[c.name] = CellJson(v, std::nullopt);
    }
    return true;
  }

  static bool IsKey(const ColumnSchema& c) {
    return c.kind == ColumnKind::kPartitionKey || c.kind == ColumnKind::kClustering;
  }

  void PartitionDeletion(const PartitionUpdate& u) {
    const TableSchema& t = *u.table;
    const int64_t at = u.partition_deletion.marked_for_delete_at;
    ChangeEvent e = Event(u, Operation::kDelete, kOpDelete, at);
    Json key, after;
    if (!KeyAndAfter(u, nullptr, key, after)) return;
    // Every other column (clustering ones included) is deleted at the deletion's timestamp.
    for (const ColumnSchema& c : t.columns) {
      if (c.kind != ColumnKind::kPartitionKey) after[c.name] = CellJson(nullptr, at);
    }
    e.key = std::move(key);
    e.after = std::move(after);
    out_.push_back(std::move(e));
  }

  static Json BoundJson(const TableSchema& t, const Bound& b) {
    Json values = Json::object();
    for (size_t i = 0; i < b.clustering->size() && i < t.clustering.size(); ++i) {
      const ColumnSchema& c = t.columns[t.clustering[i]];
      const auto& raw = (*b.clustering)[i];
      if (!raw) {
        values[c.name] = nullptr;
        continue;
      }
      auto v = DecodeValue(c.type, *raw);
      if (!v.ok()) {
        values[c.name] = nullptr;
        continue;
      }
      Json j(v->ToJson());
      values[c.name] = j.is_string() ? j.get<std::string>()
                                     : j.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    Json out = Json::object();
    out["method"] = b.method;
    out["values"] = std::move(values);
    return out;
  }

  void RangeEvent(const PartitionUpdate& u, const std::optional<Bound>& start, const Bound& end,
                  const DeletionTime& deletion) {
    const TableSchema& t = *u.table;
    ChangeEvent e = Event(u, Operation::kDelete, kOpRangeTombstone, deletion.marked_for_delete_at);
    Json key, after;
    if (!KeyAndAfter(u, nullptr, key, after)) return;
    for (const ColumnSchema& c : t.columns) {
      if (c.kind != ColumnKind::kPartitionKey) after[c.name] = nullptr;
    }
    after["_range_start"] = start ? BoundJson(t, *start) : Json(nullptr);
    after["_range_end"] = BoundJson(t, end);
    e.key = std::move(key);
    e.after = std::move(after);
    out_.push_back(std::move(e));
  }

  // Pairs the markers (start bound, then end bound; a boundary closes one range and opens the
  // next) into one "r" event per deleted range.
  void RangeDeletions(const PartitionUpdate& u) {
    using K = RangeTombstoneMarker::Kind;
    std::optional<Bound> open;
    for (const RangeTombstoneMarker& m : u.range_tombstones) {
      switch (m.kind) {
        case K::kInclusiveStart:
        case K::kExclusiveStart:
          open = Bound{BoundName(m.kind), &m.clustering};
          break;
        case K::kInclusiveEnd:
        case K::kExclusiveEnd:
          RangeEvent(u, open, Bound{BoundName(m.kind), &m.clustering}, m.deletion);
          open.reset();
          break;
        case K::kExclusiveEndInclusiveStartBoundary:
          RangeEvent(u, open, Bound{"EXCL_END_BOUND", &m.clustering}, m.end_deletion);
          open = Bound{"INCL_START_BOUND", &m.clustering};
          break;
        case K::kInclusiveEndExclusiveStartBoundary:
          RangeEvent(u, open, Bound{"INCL_END_BOUND", &m.clustering}, m.end_deletion);
          open = Bound{"EXCL_START_BOUND", &m.clustering};
          break;
      }
    }
  }

  // The value and deletion_ts of one column from its cells in a row (several for a multi-cell
  // collection) and its complex deletion, if any.
  bool ColumnJson(const PartitionUpdate& u, const ColumnSchema& c, const std::vector<Cell>& row,
                  size_t first, size_t count, const DeletionTime* complex, Json& out,
                  int64_t& max_ts) {
    if (!c.type.IsMultiCell()) {
      const Cell& cell = row[first];
      max_ts = std::max(max_ts, cell.timestamp);
      if (cell.is_tombstone) {
        out = CellJson(nullptr, cell.timestamp);
        return true;
      }
      auto v = cell.DecodeValue();
      if (!v.ok()) {
        Report(u, fmt::format("column {}: {}", c.name, v.error().message));
        return false;
      }
      out = CellJson(Json(v->ToJson()),
                     cell.is_expiring
                         ? std::optional<int64_t>(SecondsToMicros(cell.local_deletion_time))
                         : std::nullopt);
      return true;
    }
    // Multi-cell collection: the elements this mutation wrote; removed elements (cell
    // tombstones) are not listed.
    CqlValue::List list;
    CqlValue::Set set;
    CqlValue::Map map;
    std::optional<int64_t> deletion_ts;
    size_t live = 0;
    for (size_t i = first; i < first + count; ++i) {
      const Cell& cell = row[i];
      max_ts = std::max(max_ts, cell.timestamp);
      if (cell.is_tombstone) continue;
      if (cell.is_expiring && !deletion_ts) deletion_ts = SecondsToMicros(cell.local_deletion_time);
      ++live;
      if (c.type.kind == CqlKind::kSet) {
        auto k = cell.DecodePath();
        if (!k.ok()) {
          Report(u, fmt::format("column {}: {}", c.name, k.error().message));
          return false;
        }
        set.items.push_back(std::move(k).value());
        continue;
      }
      auto v = cell.DecodeValue();
      if (!v.ok()) {
        Report(u, fmt::format("column {}: {}", c.name, v.error().message));
        return false;
      }
      if (c.type.kind == CqlKind::kList) {
        list.items.push_back(std::move(v).value());
      } else {
        auto k = cell.DecodePath();
        if (!k.ok()) {
          Report(u, fmt::format("column {}: {}", c.name, k.error().message));
          return false;
        }
        map.entries.push_back({std::move(k).value(), std::move(v).value()});
      }
    }
    if (complex != nullptr) max_ts = std::max(max_ts, complex->marked_for_delete_at);
    if (live == 0 && complex != nullptr) {
      out = CellJson(nullptr, complex->marked_for_delete_at);  // collection cleared
      return true;
    }
    CqlValue value = c.type.kind == CqlKind::kList  ? CqlValue(std::move(list))
                     : c.type.kind == CqlKind::kSet ? CqlValue(std::move(set))
                                                    : CqlValue(std::move(map));
    out = CellJson(Json(value.ToJson()), deletion_ts);
    return true;
  }

  void RowEvents(const PartitionUpdate& u, const Row& row) {
    const TableSchema& t = *u.table;
    const ClusteringValues* clustering = row.is_static ? nullptr : &row.clustering;
    if (!row.deletion.is_live()) {
      const int64_t at = row.deletion.marked_for_delete_at;
      ChangeEvent e = Event(u, Operation::kDelete, kOpDelete, at);
      Json key, after;
      if (!KeyAndAfter(u, clustering, key, after)) return;
      for (const ColumnSchema& c : t.columns) {
        if (!IsKey(c)) after[c.name] = CellJson(nullptr, at);
      }
      e.key = std::move(key);
      e.after = std::move(after);
      out_.push_back(std::move(e));
    }
    const bool insert = !row.primary_key_liveness.is_empty();
    if (!insert && row.cells.empty() && row.complex_deletions.empty()) return;

    Json key, after;
    if (!KeyAndAfter(u, clustering, key, after)) return;
    int64_t max_ts = insert ? row.primary_key_liveness.timestamp : DeletionTime::kLiveTimestamp;
    for (const ColumnSchema& c : t.columns) {
      if (IsKey(c)) continue;
      // Cells are in column order, the elements of a collection next to each other.
      size_t first = row.cells.size(), count = 0;
      for (size_t i = 0; i < row.cells.size(); ++i) {
        if (row.cells[i].column == &c) {
          if (count == 0) first = i;
          ++count;
        }
      }
      const DeletionTime* complex = nullptr;
      for (const ComplexDeletion& d : row.complex_deletions) {
        if (d.column == &c) complex = &d.deletion;
      }
      if (count == 0 && complex == nullptr) {
        after[c.name] = nullptr;  // not touched by this mutation
        continue;
      }
      Json column;
      if (count == 0) {
        column = CellJson(nullptr, complex->marked_for_delete_at);
        max_ts = std::max(max_ts, complex->marked_for_delete_at);
      } else if (!ColumnJson(u, c, row.cells, first, count, complex, column, max_ts)) {
        return;
      }
      after[c.name] = std::move(column);
    }
    ChangeEvent e = insert ? Event(u, Operation::kCreate, kOpInsert, max_ts)
                           : Event(u, Operation::kUpdate, kOpUpdate, max_ts);
    e.key = std::move(key);
    e.after = std::move(after);
    out_.push_back(std::move(e));
  }

  const Mutation& m_;
  const EventSourceContext& ctx_;
  std::vector<Error>* errors_;
  Json pk_;  // partition key of the update being built, column -> value
  std::vector<ChangeEvent> out_;
};

}  // namespace

std::string TopicFor(const std::string& topic_prefix, const TableSchema& table) {
  return topic_prefix + "." + table.keyspace + "." + table.name;
}

std::vector<ChangeEvent> BuildChangeEvents(const Mutation& mutation,
                                           const EventSourceContext& context,
                                           std::vector<common::Error>* errors) {
  return Builder(mutation, context, errors).Build();
}

std::vector<EncodedRecord> EncodeEventRecords(const ChangeEvent& event, bool tombstones_on_delete) {
  bool full_key = event.key.has_value();
  if (full_key) {
    for (const auto& [name, value] : event.key->items()) full_key = full_key && !value.is_null();
  }
  const bool row_delete = event.op == Operation::kDelete && event.op_code != kOpRangeTombstone;
  return EncodeRecords(event, tombstones_on_delete && row_delete && full_key);
}

}  // namespace rm::cdc::cassandra
