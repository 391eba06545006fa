// Test helpers for schema mutations: system_schema.columns updates written the way Cassandra's
// SchemaKeyspace writes them for an ALTER TABLE (a row per added or changed column, a row
// deletion per dropped one), data updates of a table, and a fixture segment rebuilt with such
// entries spliced in at a known offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src-cdc/cassandra/system_schema.h"
#include "tests/src-cdc/cassandra_test_support.h"

namespace rm::cdc::cassandra::testing {

// One system_schema.columns row.
struct ColumnRow {
  std::string name;
  std::string type;
  std::string kind = "regular";
  int position = -1;
  std::string order = "none";
  bool deleted = false;  // a row deletion (ALTER ... DROP)
};

inline std::string_view IdBytes(const TableId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}

// The partition update of system_schema.columns for `keyspace`.`table`. `omit` leaves a cell out
// of the written rows ("type" or "kind": a malformed row).
inline std::string ColumnsUpdate(const std::string& keyspace, const std::string& table,
                                 const std::vector<ColumnRow>& rows, const std::string& omit = "") {
  ByteWriter w;
  w.Raw(IdBytes(SystemTableId(kSystemSchemaKeyspace, "columns")));
  w.VIntBytes(keyspace);
  w.U8(0);                       // partition flags: none
  w.UVInt(0).UVInt(0).UVInt(0);  // encoding stats
  std::vector<std::string> columns = {"clustering_order", "kind", "position", "type"};
  std::erase(columns, omit);
  w.UVInt(columns.size());
  for (const auto& c : columns) w.VIntBytes(c);
  for (const ColumnRow& row : rows) {
    if (row.deleted) {
      w.U8(0x10);  // has deletion, a subset of the columns
      w.UVInt(0).VIntBytes(table).VIntBytes(row.name);
      w.UVInt(1).UVInt(0);                           // deletion time (deltas)
      w.UVInt((uint64_t{1} << columns.size()) - 1);  // every column missing
      continue;
    }
    w.U8(0x24);  // has timestamp, all columns
    w.UVInt(0).VIntBytes(table).VIntBytes(row.name);
    w.UVInt(1);  // timestamp delta
    for (const auto& c : columns) {
      w.U8(0x08);  // uses the row's timestamp
      if (c == "clustering_order") w.VIntBytes(row.order);
      if (c == "kind") w.VIntBytes(row.kind);
      if (c == "position") w.U32(static_cast<uint32_t>(row.position));
      if (c == "type") w.VIntBytes(row.type);
    }
  }
  w.U8(0x01);  // end of partition
  return w.bytes;
}

// The partition update of system_schema.tables for `keyspace` deleting `table`'s row, as
// SchemaKeyspace.makeDropTableMutation writes it for a DROP TABLE (with the deletion of every
// columns row: ColumnsUpdate with deleted rows).
inline std::string TablesRowDeletion(const std::string& keyspace, const std::string& table) {
  ByteWriter w;
  w.Raw(IdBytes(SystemTableId(kSystemSchemaKeyspace, "tables")));
  w.VIntBytes(keyspace);
  w.U8(0);                       // partition flags: none
  w.UVInt(0).UVInt(0).UVInt(0);  // encoding stats
  w.UVInt(1).VIntBytes("id");    // the columns the update names
  w.U8(0x10);                    // has deletion, a subset of the columns
  w.UVInt(0).VIntBytes(table);
  w.UVInt(1).UVInt(0);  // deletion time (deltas)
  w.UVInt(1);           // the one column missing
  w.U8(0x01);           // end of partition
  return w.bytes;
}

// One cell of a data row: the column and its value as stored (`fixed`: no length prefix).
struct DataCell {
  std::string column;
  std::string value;
  bool fixed = false;
};

// The partition update of a table with one partition key and one clustering column (both
// variable-length), one row.
inline std::string DataUpdate(const TableId& id, const std::string& key,
                              const std::string& clustering, const std::vector<DataCell>& cells) {
  ByteWriter w;
  w.Raw(IdBytes(id));
  w.VIntBytes(key);
  w.U8(0);
  w.UVInt(0).UVInt(0).UVInt(0);
  w.UVInt(cells.size());
  for (const auto& c : cells) w.VIntBytes(c.column);
  w.U8(0x24);
  w.UVInt(0).VIntBytes(clustering);
  w.UVInt(1);
  for (const auto& c : cells) {
    w.U8(0x08);
    if (c.fixed) {
      w.Raw(c.value);
    } else {
      w.VIntBytes(c.value);
    }
  }
  w.U8(0x01);
  return w.bytes;
}

inline std::string Int32(int32_t v) {
  ByteWriter w;
  w.U32(static_cast<uint32_t>(v));
  return w.bytes;
}

// A mutation of the given partition updates (all of one keyspace).
inline std::string MutationOf(const std::vector<std::string>& updates) {
  ByteWriter w;
  w.UVInt(updates.size());
  for (const auto& u : updates) w.Raw(u);
  return w.bytes;
}

// The entries (size, CRC, bytes, CRC) of a plain section, up to its zero padding.
inline std::vector<std::string> SectionEntries(const std::string& section) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos + 8 <= section.size()) {
    const uint32_t size = LoadU32(section, pos);
    if (size == 0) break;
    out.push_back(section.substr(pos, 12 + size));
    pos += 12 + size;
  }
  return out;
}

// A plain format-6 segment with every entry of `fixture` (a plain segment) in one section and
// `inserted` spliced in after the first `before` entries. `*inserted_at` receives the offset of
// the first inserted entry.
inline std::string SpliceSegment(const std::string& fixture, int64_t id, size_t before,
                                 const std::vector<std::string>& inserted, uint32_t* inserted_at) {
  std::vector<std::string> entries;
  for (const auto& s : PlainSections(fixture)) {
    for (auto& e : SectionEntries(s)) entries.push_back(std::move(e));
  }
  std::string section;
  // Header {version, id, params length, "{}", CRC} = 20 bytes, then the 8-byte sync marker.
  uint32_t at = 28;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i == before) {
      *inserted_at = at;
      for (const auto& e : inserted) section += e;
    }
    section += entries[i];
    if (i < before) at += static_cast<uint32_t>(entries[i].size());
  }
  return BuildSegment(6, id, {section});
}

}  // namespace rm::cdc::cassandra::testing
