#include "src-cdc/cassandra/system_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "src-cdc/cassandra/detail/crypto.h"

namespace rm::cdc::cassandra {
namespace {

// The system_schema tables, each with the union of the columns Cassandra 3.0 to 5.0 give it
// (SchemaKeyspace's table definitions; 3.0 lacks e.g. tables.cdc and dropped_columns.kind, 4.0
// adds additional_write_policy and read_repair, 4.1 memtable, 5.0 column_masks and more table
// options). Rows carry the names of their columns, so a column unknown here only makes that
// schema mutation undecodable (reported by the reader), never misread.
constexpr char kSystemSchemaCql[] = R"(
CREATE TABLE system_schema.keyspaces (keyspace_name text, durable_writes boolean,
  replication frozen<map<text, text>>, PRIMARY KEY ((keyspace_name)));
CREATE TABLE system_schema.tables (keyspace_name text, table_name text,
  allow_auto_snapshot boolean, bloom_filter_fp_chance double, caching frozen<map<text, text>>,
  comment text, compaction frozen<map<text, text>>, compression frozen<map<text, text>>,
  memtable text, crc_check_chance double, dclocal_read_repair_chance double,
  default_time_to_live int, extensions frozen<map<text, blob>>, flags frozen<set<text>>,
  gc_grace_seconds int, incremental_backups boolean, id uuid, max_index_interval int,
  memtable_flush_period_in_ms int, min_index_interval int, read_repair_chance double,
  speculative_retry text, additional_write_policy text, cdc boolean, read_repair text,
  automated_repair_full frozen<map<text, text>>,
  automated_repair_incremental frozen<map<text, text>>,
  PRIMARY KEY ((keyspace_name), table_name));
CREATE TABLE system_schema.columns (keyspace_name text, table_name text, column_name text,
  clustering_order text, column_name_bytes blob, kind text, position int, type text,
  PRIMARY KEY ((keyspace_name), table_name, column_name));
CREATE TABLE system_schema.column_masks (keyspace_name text, table_name text, column_name text,
  function_keyspace text, function_name text, function_argument_types frozen<list<text>>,
  function_argument_values frozen<list<text>>, function_argument_nulls frozen<list<boolean>>,
  PRIMARY KEY ((keyspace_name), table_name, column_name));
CREATE TABLE system_schema.dropped_columns (keyspace_name text, table_name text,
  column_name text, dropped_time timestamp, kind text, type text,
  PRIMARY KEY ((keyspace_name), table_name, column_name));
CREATE TABLE system_schema.triggers (keyspace_name text, table_name text, trigger_name text,
  options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, trigger_name));
CREATE TABLE system_schema.views (keyspace_name text, view_name text, base_table_id uuid,
  base_table_name text, where_clause text, allow_auto_snapshot boolean,
  bloom_filter_fp_chance double, caching frozen<map<text, text>>, comment text,
  compaction frozen<map<text, text>>, compression frozen<map<text, text>>, memtable text,
  crc_check_chance double, dclocal_read_repair_chance double, default_time_to_live int,
  extensions frozen<map<text, blob>>, gc_grace_seconds int, incremental_backups boolean, id uuid,
  include_all_columns boolean, max_index_interval int, memtable_flush_period_in_ms int,
  min_index_interval int, read_repair_chance double, speculative_retry text,
  additional_write_policy text, cdc boolean, read_repair text,
  automated_repair_full frozen<map<text, text>>,
  automated_repair_incremental frozen<map<text, text>>,
  PRIMARY KEY ((keyspace_name), view_name));
CREATE TABLE system_schema.indexes (keyspace_name text, table_name text, index_name text,
  kind text, options frozen<map<text, text>>,
  PRIMARY KEY ((keyspace_name), table_name, index_name));
CREATE TABLE system_schema.types (keyspace_name text, type_name text,
  field_names frozen<list<text>>, field_types frozen<list<text>>,
  PRIMARY KEY ((keyspace_name), type_name));
CREATE TABLE system_schema.functions (keyspace_name text, function_name text,
  argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text,
  language text, return_type text, called_on_null_input boolean,
  PRIMARY KEY ((keyspace_name), function_name, argument_types));
CREATE TABLE system_schema.aggregates (keyspace_name text, aggregate_name text,
  argument_types frozen<list<text>>, final_func text, initcond text, return_type text,
  state_func text, state_type text, PRIMARY KEY ((keyspace_name), aggregate_name, argument_types));
)";

common::Error MutationError(const Mutation& m, const std::string& what) {
  return {"cassandra.schema_mutation",
          fmt::format("schema mutation at {}: {}", m.position.ToString(), what)};
}

// A text clustering value or cell value (UTF-8 bytes as stored).
const std::string* ClusteringText(const Row& row, size_t i) {
  if (i >= row.clustering.size() || !row.clustering[i]) return nullptr;
  return &*row.clustering[i];
}

bool SameColumn(const ColumnSchema& a, const ColumnSchema& b) {
  return a.name == b.name && a.type == b.type && a.kind == b.kind && a.key_index == b.key_index &&
         a.descending == b.descending;
}

std::string Describe(const ColumnSchema& c) {
  std::string out = c.type.ToString();
  switch (c.kind) {
    case ColumnKind::kPartitionKey:
      out += fmt::format(" (partition key {})", c.key_index + 1);
      break;
    case ColumnKind::kClustering:
      out += fmt::format(" (clustering {}{})", c.key_index + 1, c.descending ? ", desc" : "");
      break;
    case ColumnKind::kStatic:
      out += " (static)";
      break;
    case ColumnKind::kRegular:
      break;
  }
  return out;
}

}  // namespace

TableId SystemTableId(std::string_view keyspace, std::string_view table) {
  const std::string md5 = detail::Md5(keyspace, table);
  Uuid id = *Uuid::FromBytes(md5);
  // java.util.UUID.nameUUIDFromBytes: version 3, IETF variant.
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0f) | 0x30);
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3f) | 0x80);
  return id;
}

common::Status AddSystemSchemaTables(Schema* schema) {
  auto tables = ParseCreateTables(kSystemSchemaCql);
  if (!tables.ok()) return tables.error();
  for (TableSchema& t : tables.value()) {
    const TableId id = SystemTableId(t.keyspace, t.name);
    if (auto s = schema->AddTable(std::move(t), id); !s.ok()) return s;
  }
  return common::Status::Ok();
}

bool IsSystemSchemaTable(const TableSchema& table) {
  return table.keyspace == kSystemSchemaKeyspace;
}

bool IsSchemaMutation(const Mutation& m) {
  return !m.updates.empty() && m.updates.front().table != nullptr &&
         IsSystemSchemaTable(*m.updates.front().table);
}

common::Result<std::vector<TableChange>> DecodeSchemaChanges(const Mutation& m) {
  std::vector<TableChange> out;
  const auto change_of = [&out](const std::string& keyspace,
                                const std::string& table) -> TableChange& {
    for (TableChange& c : out) {
      if (c.keyspace == keyspace && c.table == table) return c;
    }
    out.push_back(TableChange{keyspace, table});
    return out.back();
  };
  for (const PartitionUpdate& u : m.updates) {
    if (u.table == nullptr || !IsSystemSchemaTable(*u.table)) {
      return MutationError(m, "partition update of a table outside system_schema");
    }
    const std::string& kind = u.table->name;
    if (kind != "tables" && kind != "columns") continue;
    const std::string& keyspace = u.partition_key;  // a single text key: its bytes as stored
    for (size_t r = 0; r < u.rows.size(); ++r) {
      const Row& row = u.rows[r];
      const std::string where =
          fmt::format("system_schema.{} row {} of keyspace {}", kind, r, keyspace);
      const std::string* table = ClusteringText(row, 0);
      if (table == nullptr) return MutationError(m, where + ": no table_name");
      const bool deleted =
          !row.deletion.is_live() && row.cells.empty() && row.primary_key_liveness.is_empty();
      if (kind == "tables") {
        TableChange& c = change_of(keyspace, *table);
        if (deleted) {
          c.table_dropped = true;
          continue;
        }
        c.table_dropped = false;
        for (const Cell& cell : row.cells) {
          if (cell.column->name != "id" || cell.is_tombstone) continue;
          auto id = Uuid::FromBytes(cell.value);
          if (!id) return MutationError(m, where + ": id is not a uuid");
          c.id = *id;
        }
        continue;
      }
      const std::string* column = ClusteringText(row, 1);
      if (column == nullptr) return MutationError(m, where + ": no column_name");
      TableChange& c = change_of(keyspace, *table);
      if (deleted) {
        c.columns_deleted.push_back(*column);
        continue;
      }
      ColumnDefinition def;
      def.name = *column;
      bool have_kind = false, have_type = false;
      for (const Cell& cell : row.cells) {
        if (cell.is_tombstone) continue;
        const std::string& name = cell.column->name;
        if (name == "kind") {
          def.kind = cell.value;
          have_kind = true;
        } else if (name == "type") {
          def.type = cell.value;
          have_type = true;
        } else if (name == "clustering_order") {
          def.clustering_order = cell.value;
        } else if (name == "position") {
          if (cell.value.size() != 4) return MutationError(m, where + ": position is not an int");
          const auto* b = reinterpret_cast<const unsigned char*>(cell.value.data());
          def.position = static_cast<int32_t>((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                              (uint32_t{b[2]} << 8) | uint32_t{b[3]});
        }
      }
      if (!have_kind || !have_type) {
        return MutationError(m, fmt::format("{}: column {}.{}.{} without {}", where, keyspace,
                                            *table, *column, have_kind ? "type" : "kind"));
      }
      c.columns_written.push_back(std::move(def));
    }
  }
  std::erase_if(out, [](const TableChange& c) { return c.empty(); });
  return out;
}

common::Result<std::optional<TableSchema>> ApplyTableChange(const TableSchema& current,
                                                            const TableChange& change) {
  const auto error = [&](const std::string& what) {
    return common::Error{"cassandra.schema_change",
                         fmt::format("table {}: {}", current.QualifiedName(), what)};
  };
  TableSchema next = current;
  bool changed = false;
  for (const std::string& name : change.columns_deleted) {
    const auto it = std::find_if(next.columns.begin(), next.columns.end(),
                                 [&](const ColumnSchema& c) { return c.name == name; });
    if (it == next.columns.end()) continue;
    next.columns.erase(it);
    changed = true;
  }
  for (const ColumnDefinition& def : change.columns_written) {
    auto type = ParseCqlType(def.type);
    if (!type.ok()) {
      return error(
          fmt::format("column {}: type '{}': {}", def.name, def.type, type.error().message));
    }
    ColumnSchema col;
    col.name = def.name;
    col.type = std::move(type).value();
    if (def.kind == "partition_key") {
      col.kind = ColumnKind::kPartitionKey;
    } else if (def.kind == "clustering") {
      col.kind = ColumnKind::kClustering;
    } else if (def.kind == "regular") {
      col.kind = ColumnKind::kRegular;
    } else if (def.kind == "static") {
      col.kind = ColumnKind::kStatic;
    } else {
      return error(fmt::format("column {}: unknown kind '{}'", def.name, def.kind));
    }
    const bool key = col.kind == ColumnKind::kPartitionKey || col.kind == ColumnKind::kClustering;
    if (key && def.position < 0) {
      return error(fmt::format("key column {} without position", def.name));
    }
    col.key_index = key ? def.position : -1;
    col.descending = col.kind == ColumnKind::kClustering && def.clustering_order == "desc";
    auto it = std::find_if(next.columns.begin(), next.columns.end(),
                           [&](const ColumnSchema& c) { return c.name == col.name; });
    if (it == next.columns.end()) {
      next.columns.push_back(std::move(col));
      changed = true;
    } else if (!SameColumn(*it, col)) {
      *it = std::move(col);
      changed = true;
    }
  }
  if (!changed) return std::optional<TableSchema>();
  // Key column indexes, in key order; each position taken once, none missing.
  next.partition_key.clear();
  next.clustering.clear();
  for (ColumnKind kind : {ColumnKind::kPartitionKey, ColumnKind::kClustering}) {
    std::vector<int>& indexes =
        kind == ColumnKind::kPartitionKey ? next.partition_key : next.clustering;
    for (size_t i = 0; i < next.columns.size(); ++i) {
      if (next.columns[i].kind == kind) indexes.push_back(static_cast<int>(i));
    }
    std::sort(indexes.begin(), indexes.end(), [&](int a, int b) {
      return next.columns[static_cast<size_t>(a)].key_index <
             next.columns[static_cast<size_t>(b)].key_index;
    });
    for (size_t k = 0; k < indexes.size(); ++k) {
      if (next.columns[static_cast<size_t>(indexes[k])].key_index != static_cast<int>(k)) {
        return error(fmt::format("{} columns are not numbered 0 to {}",
                                 kind == ColumnKind::kPartitionKey ? "partition key" : "clustering",
                                 indexes.size() - 1));
      }
    }
  }
  if (next.partition_key.empty()) return error("no partition key column left");
  return std::optional<TableSchema>(std::move(next));
}

common::Result<TableSchema> DefinedTable(const TableSchema& base, const TableChange& change) {
  TableSchema empty = base;
  empty.columns.clear();
  empty.partition_key.clear();
  empty.clustering.clear();
  auto table = ApplyTableChange(empty, change);
  if (!table.ok()) return table.error();
  if (!table->has_value()) {
    return common::Error{"cassandra.schema_change",
                         fmt::format("table {}: no columns defined", base.QualifiedName())};
  }
  return std::move(**table);
}

std::vector<std::string> ColumnChanges(const TableSchema& before, const TableSchema& after) {
  std::vector<std::string> parts;
  for (const ColumnSchema& c : after.columns) {
    const ColumnSchema* old = before.FindColumn(c.name);
    if (old == nullptr) {
      parts.push_back(fmt::format("+{} {}", c.name, Describe(c)));
    } else if (!SameColumn(*old, c)) {
      parts.push_back(fmt::format("~{} {} -> {}", c.name, Describe(*old), Describe(c)));
    }
  }
  for (const ColumnSchema& c : before.columns) {
    if (after.FindColumn(c.name) == nullptr) parts.push_back("-" + c.name);
  }
  return parts;
}

std::string DescribeColumnChanges(const TableSchema& before, const TableSchema& after) {
  std::string out;
  for (const auto& p : ColumnChanges(before, after)) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "no column changed" : out;
}

}  // namespace rm::cdc::cassandra
