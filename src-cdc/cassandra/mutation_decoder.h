// Decodes the bytes of one commit log entry (a serialized Mutation) into a Mutation, following
// Cassandra's Mutation, PartitionUpdate, UnfilteredRowIteratorSerializer, UnfilteredSerializer
// and Cell serializers for messaging versions 3.0 and 4.0 (commit log formats 6 and 7).
#pragma once

#include <optional>
#include <string_view>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {

// MessagingService versions the commit log formats use.
inline constexpr int kMessagingVersion30 = 10;  // commit log format 6 (Cassandra 3.x)
inline constexpr int kMessagingVersion40 = 12;  // commit log format 7 (Cassandra 4.x)

struct DecodedEntry {
  // Set when the entry names a table that is not in the schema. Partition updates carry no
  // length, so such an entry cannot be partly decoded: it is skipped whole, as Cassandra does.
  std::optional<TableId> unknown_table;
  Mutation mutation;  // valid when unknown_table is empty; position fields left for the caller
};

// Pure function of its inputs; thread-safe. Never reads outside `bytes`. Errors (code
// "cassandra.decode") say what was being read and at which offset inside the entry, e.g.
// "partition update 0 of table ks.t: row 3: cell of column 'v': value truncated at byte 118".
common::Result<DecodedEntry> DecodeMutation(std::string_view bytes, int messaging_version,
                                            const Schema& schema);

}  // namespace rm::cdc::cassandra
