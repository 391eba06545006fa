// Decoded commit log mutations: what one commit log entry says happened to one or more
// partitions of tables in the Schema. Plain data; the raw value bytes are kept so the caller
// decides what to decode (CqlValue) and nothing is lost.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/cql_value.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {

// Cassandra's CommitLogPosition: a segment id and an offset in that segment. The offset is
// "logical": for uncompressed segments it is the byte offset in the file; for compressed and
// encrypted segments it counts uncompressed bytes as Cassandra's writer laid them out (the same
// coordinates `_cdc.idx` uses). Positions order all entries of all segments.
struct CommitLogPosition {
  int64_t segment_id = 0;
  uint32_t offset = 0;

  friend auto operator<=>(const CommitLogPosition&, const CommitLogPosition&) = default;
  std::string ToString() const { return std::to_string(segment_id) + ":" + std::to_string(offset); }
};

// A deletion: when it happened (write timestamp, microseconds) and when it was applied locally
// (seconds). Live (no deletion) is kLiveTimestamp / kNoDeletionTime.
struct DeletionTime {
  static constexpr int64_t kLiveTimestamp = std::numeric_limits<int64_t>::min();
  static constexpr int32_t kNoDeletionTime = std::numeric_limits<int32_t>::max();

  int64_t marked_for_delete_at = kLiveTimestamp;
  int32_t local_deletion_time = kNoDeletionTime;

  bool is_live() const {
    return marked_for_delete_at == kLiveTimestamp && local_deletion_time == kNoDeletionTime;
  }
  friend bool operator==(const DeletionTime&, const DeletionTime&) = default;
};

// The row's primary key liveness (INSERT sets it; UPDATE does not).
struct LivenessInfo {
  static constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

  int64_t timestamp = kNoTimestamp;  // microseconds
  int32_t ttl = 0;                   // seconds; 0 = not expiring
  int32_t local_expiration_time = DeletionTime::kNoDeletionTime;

  bool is_empty() const { return timestamp == kNoTimestamp; }
  bool is_expiring() const { return ttl != 0; }
};

// One cell. For a multi-cell column (non-frozen collection) a row holds one Cell per element:
// `path` is the list element's timeuuid, the set element, or the map key, and `value` is the
// list element, empty (sets), or the map value.
struct Cell {
  const ColumnSchema* column = nullptr;  // points into the Schema
  std::string path;                      // empty for simple columns
  std::string value;                     // raw bytes in the column type's storage form
  int64_t timestamp = 0;                 // microseconds
  int32_t ttl = 0;                       // seconds; set for expiring cells
  int32_t local_deletion_time = DeletionTime::kNoDeletionTime;
  bool is_tombstone = false;  // deleted cell (value empty)
  bool is_expiring = false;   // written with a TTL

  // The value as a typed CqlValue: the element type for multi-cell columns.
  common::Result<CqlValue> DecodeValue() const;
  // The cell path as a typed value (map key or set element; list paths are timeuuids).
  common::Result<CqlValue> DecodePath() const;
};

// A deletion of a whole multi-cell column (e.g. overwriting a collection) in one row.
struct ComplexDeletion {
  const ColumnSchema* column = nullptr;
  DeletionTime deletion;
};

// One clustering value per clustering column; nullopt for a null component (only in bounds).
using ClusteringValues = std::vector<std::optional<std::string>>;

struct Row {
  bool is_static = false;
  ClusteringValues clustering;  // empty for the static row and tables without clustering
  LivenessInfo primary_key_liveness;
  DeletionTime deletion;  // row deletion (DELETE of a row)
  bool deletion_is_shadowable = false;
  std::vector<ComplexDeletion> complex_deletions;
  std::vector<Cell> cells;  // in column order (serialization order)
};

// A range tombstone bound or boundary (DELETE over a clustering range).
struct RangeTombstoneMarker {
  // ClusteringPrefix.Kind, in Cassandra's serialization order.
  enum class Kind : uint8_t {
    kExclusiveEnd = 0,
    kInclusiveStart = 1,
    kExclusiveEndInclusiveStartBoundary = 2,
    kInclusiveEndExclusiveStartBoundary = 5,
    kInclusiveEnd = 6,
    kExclusiveStart = 7,
  };
  Kind kind = Kind::kInclusiveStart;
  ClusteringValues clustering;  // a prefix of the clustering columns
  // A bound carries one deletion; a boundary closes `end_deletion` and opens `start_deletion`.
  DeletionTime deletion;      // bounds; for boundaries the start (opening) deletion
  DeletionTime end_deletion;  // boundaries only
  bool is_boundary() const {
    return kind == Kind::kExclusiveEndInclusiveStartBoundary ||
           kind == Kind::kInclusiveEndExclusiveStartBoundary;
  }
};

// Everything one mutation did to one partition of one table.
struct PartitionUpdate {
  const TableSchema* table = nullptr;  // points into the Schema
  std::string partition_key;           // raw key bytes (DecodePartitionKey to split/decode)
  DeletionTime partition_deletion;     // DELETE of the whole partition when not live
  std::optional<Row> static_row;
  std::vector<Row> rows;
  std::vector<RangeTombstoneMarker> range_tombstones;

  common::Result<std::vector<CqlValue>> DecodePartitionKey() const;
};

// One commit log entry of tables in the Schema.
struct Mutation {
  CommitLogPosition position;            // where the entry starts (its size field)
  uint32_t end_offset = 0;               // just past the entry: resume here to read what follows it
  std::vector<PartitionUpdate> updates;  // all of one keyspace
  // The entry's serialized bytes (what DecodeMutation read) and the messaging version they are
  // in. Set by SegmentReader for its handler only: the bytes live in the reader's section
  // buffer and are invalid once the handler returns (copy them to keep them).
  std::string_view entry;
  int messaging_version = 0;
};

}  // namespace rm::cdc::cassandra
