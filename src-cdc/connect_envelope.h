// Kafka Connect JsonConverter envelopes with schemas (schemas.enable=true), as Debezium's
// connectors produce them: each record's key and value become {"schema": ..., "payload": ...},
// where the payload is exactly the plain envelope (change_event.h) and the schema describes it
// with Debezium's names: "<topic>.Key", "<topic>.Value" (the row image), "<topic>.Envelope",
// the connector's source block ("io.debezium.connector.postgresql.Source") and the
// transaction block ("event.block"). Column schemas carry Debezium's semantic types
// (io.debezium.time.Date, io.debezium.time.MicroTimestamp, io.debezium.time.ZonedTimestamp,
// io.debezium.data.Json, ...): the connector fills ColumnShape::connect.
//
// The "<topic>.Value" struct carries the table's schema history version as its Connect schema
// "version", so a consumer tells shapes apart without reading the history topic.
//
// Schemas are built once per table version and shared by its events (the encoding of one event
// then only concatenates strings).
#pragma once

#include <memory>
#include <string>

#include "src-cdc/change_event.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc {

// The source block's schema for the Postgres connector (fields as PostgresSource() writes).
Json PostgresSourceSchema();

// Builds the key and value schemas of `topic`'s events for `shape`. `version` 0 = no history:
// the value struct then has no version. Key schema absent (empty string) when no column is
// part of the key.
std::shared_ptr<const ConnectSchemas> BuildConnectSchemas(const std::string& topic,
                                                          const TableShape& shape, int version,
                                                          const Json& source_schema);

}  // namespace rm::cdc
