// Turns decoded commit log mutations into change events, the way Debezium's Cassandra connector
// shapes them (see README.md, "Event mapping"): one event per row, row deletion, range deletion
// and partition deletion; `after` holds every column of the table as
// {"value": v, "deletion_ts": micros|null, "set": true}, or null for a column the mutation did
// not touch; there is no `before` (the commit log has no old values).
//
//   op "i"  row written with INSERT (the row has primary key liveness)
//   op "u"  row written with UPDATE (cells only; includes cell tombstones and TTL cells)
//   op "d"  row deletion, or partition deletion (clustering columns null in the key)
//   op "r"  range deletion: `after` holds the partition key and `_range_start`/`_range_end`
//           ({"method": "INCL_START_BOUND", "values": {"ck": "text of the bound"}})
//
// Pure functions over the Schema the mutation points into; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/change_event.h"

namespace rm::cdc::cassandra {

// Op codes of Debezium's Cassandra connector (its Record.Operation).
inline constexpr const char* kOpInsert = "i";
inline constexpr const char* kOpUpdate = "u";
inline constexpr const char* kOpDelete = "d";
inline constexpr const char* kOpRangeTombstone = "r";

struct EventSourceContext {
  std::string topic_prefix;  // source.name and topic prefix
  std::string cluster;       // source.cluster
  std::string file_name;     // source.file: the segment's file name
  int64_t processed_ms = 0;  // the envelope's top-level ts_ms
};

// Topic of a table's events: <prefix>.<keyspace>.<table>.
std::string TopicFor(const std::string& topic_prefix, const TableSchema& table);

// The events of one mutation, in commit log order (per partition update: partition deletion,
// range deletions, static row, rows). A row or update whose values cannot be decoded is left
// out and reported in `errors` (naming the table and position) when `errors` is given.
std::vector<ChangeEvent> BuildChangeEvents(const Mutation& mutation,
                                           const EventSourceContext& context,
                                           std::vector<common::Error>* errors = nullptr);

// The Kafka records of one event: the event, then a tombstone (null value) after a deletion
// whose key is complete (row deletions, partition deletions of tables without clustering
// columns) when `tombstones_on_delete`. Range deletions and partition deletions with clustering
// columns get none: their key names no single row that compaction could drop.
std::vector<EncodedRecord> EncodeEventRecords(const ChangeEvent& event, bool tombstones_on_delete);

}  // namespace rm::cdc::cassandra
