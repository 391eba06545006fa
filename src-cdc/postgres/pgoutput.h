// Decoding of the streaming replication protocol and of pgoutput's logical replication
// messages (protocol version 1), as documented in the PostgreSQL manual ("Streaming
// Replication Protocol", "Logical Replication Message Formats").
//
// Every parser takes the raw bytes and returns a Result: malformed or truncated input gives an
// error ("pgoutput.malformed") naming the message and the byte offset, never a crash or an
// exception. Parsed messages own their data (no views into the input buffer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "src-cdc/postgres/lsn.h"

namespace rm::cdc::postgres {

// Microseconds between the Unix epoch and Postgres's epoch (2000-01-01 00:00:00 UTC).
inline constexpr int64_t kPostgresEpochOffsetMicros = 946684800LL * 1000000LL;

// ---- Streaming replication protocol: the payload of one CopyData message from the server.

// 'w': WAL data; `data` is one pgoutput message.
struct XLogData {
  Lsn wal_start;           // WAL position of the start of `data`
  Lsn wal_end;             // current end of WAL on the server
  int64_t server_time_us;  // server clock, microseconds since the Postgres epoch
  std::string data;
};

// 'k': keepalive; when `reply_requested`, the client must answer with a status update soon
// or be disconnected after wal_sender_timeout.
struct PrimaryKeepalive {
  Lsn wal_end;
  int64_t server_time_us;
  bool reply_requested = false;
};

using ReplicationMessage = std::variant<XLogData, PrimaryKeepalive>;

common::Result<ReplicationMessage> ParseReplicationMessage(std::string_view copy_data);

// 'r': Standby Status Update sent by the client. `flush` is what the server stores as the
// slot's confirmed_flush_lsn: everything committed before it may be discarded.
std::string EncodeStandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t client_time_us,
                                      bool reply_requested);

// ---- pgoutput logical replication messages.

struct BeginMessage {
  Lsn final_lsn;           // LSN of the transaction's commit record
  int64_t commit_time_us;  // since the Postgres epoch
  uint32_t xid = 0;
};

struct CommitMessage {
  uint8_t flags = 0;
  Lsn commit_lsn;  // LSN of the commit record
  Lsn end_lsn;     // end of the commit record: the position to confirm once processed
  int64_t commit_time_us = 0;
};

struct OriginMessage {
  Lsn commit_lsn;
  std::string name;
};

struct RelationColumn {
  bool is_key = false;  // part of the replica identity (all columns under FULL)
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;  // atttypmod: precision/length, -1 when none
};

struct RelationMessage {
  uint32_t oid = 0;
  std::string schema;  // "pg_catalog" when the server sends an empty namespace
  std::string table;
  char replica_identity = 'd';  // 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<RelationColumn> columns;
};

struct TypeMessage {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
};

enum class TupleValueKind { kNull, kUnchangedToast, kText, kBinary };

struct TupleValue {
  TupleValueKind kind = TupleValueKind::kNull;
  std::string data;  // text (or binary) representation for kText/kBinary
};

using TupleData = std::vector<TupleValue>;

struct InsertMessage {
  uint32_t relation_oid = 0;
  TupleData new_tuple;
};

struct UpdateMessage {
  uint32_t relation_oid = 0;
  // 'K' old key (replica identity changed), 'O' old row (REPLICA IDENTITY FULL), 0 none.
  char old_kind = 0;
  std::optional<TupleData> old_tuple;
  TupleData new_tuple;
};

struct DeleteMessage {
  uint32_t relation_oid = 0;
  char old_kind = 'K';  // 'K' key columns only, 'O' whole row
  TupleData old_tuple;
};

struct TruncateMessage {
  uint8_t options = 0;  // bit 1: CASCADE, bit 2: RESTART IDENTITY
  std::vector<uint32_t> relation_oids;
  bool cascade() const { return options & 1; }
  bool restart_identity() const { return options & 2; }
};

// 'M': pg_logical_emit_message (only with the `messages` option).
struct LogicalDecodingMessage {
  bool transactional = false;
  Lsn lsn;
  std::string prefix;
  std::string content;
};

using PgOutputMessage = std::variant<BeginMessage, CommitMessage, OriginMessage, RelationMessage,
                                     TypeMessage, InsertMessage, UpdateMessage, DeleteMessage,
                                     TruncateMessage, LogicalDecodingMessage>;

common::Result<PgOutputMessage> ParsePgOutputMessage(std::string_view data);

// Name of the message type byte ("Begin", "Insert", ...), or "unknown".
std::string_view PgOutputMessageName(char type);

}  // namespace rm::cdc::postgres
