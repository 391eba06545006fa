// RAII libpq connections: PgConnection for SQL (snapshot, catalog look-ups, provisioning) and
// ReplicationConnection for the streaming replication protocol (replication=database).
//
// Both own their PGconn and close it in the destructor; both are movable, not copyable, and
// not thread-safe (one thread uses a connection at a time). Errors are Results naming the
// server, database and user (never the password) and libpq's message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "src-cdc/postgres/lsn.h"

struct pg_conn;
struct pg_result;

namespace rm::cdc::postgres {

// Where and as whom to connect. The password is kept in memory only; nothing prints it.
struct ConnectionParams {
  std::string host = "127.0.0.1";  // host name, IP, or a unix socket directory
  int port = 5432;
  std::string dbname = "postgres";
  std::string user = "postgres";
  std::optional<std::string> password;
  std::string sslmode = "prefer";
  int connect_timeout_s = 10;
  std::string application_name = "regionmirror";
  // Extra server settings (libpq `options`); SessionOptions() is always added.
  std::string options;
  // statement_timeout of SQL sessions (snapshot pages, catalog look-ups, heartbeats, the slot
  // monitor), so a stuck server or lock fails the call instead of hanging the capture. Not set
  // on replication connections: START_REPLICATION lasts as long as the stream. 0 = none.
  int statement_timeout_ms = 30000;
  // TCP keepalives (libpq keepalives_idle/_interval/_count) on every connection, replication
  // included, so a peer that vanished without closing (host down, network cut) is noticed
  // within idle + interval * count seconds even while the capture only waits to read.
  int keepalives_idle_s = 30;
  int keepalives_interval_s = 10;
  int keepalives_count = 3;

  // "host:port/dbname as user", for messages.
  std::string Describe() const;
};

// Rows of a query result, in text format. NULL is an empty optional.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<uint32_t> column_types;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string command_status;  // "INSERT 0 1", "UPDATE 3", ...
};

struct PgConnDeleter {
  void operator()(pg_conn* c) const;
};
using PgConnPtr = std::unique_ptr<pg_conn, PgConnDeleter>;

// Quotes an identifier ("My Table" -> "\"My Table\"") / a literal ('it''s'), for SQL text
// built from configuration. Standard-conforming strings are assumed (Postgres's default).
std::string QuoteIdent(std::string_view name);
std::string QuoteLiteral(std::string_view value);

class PgConnection {
 public:
  // Error codes: "pg.connect" (unreachable, authentication failed, no such database).
  static common::Result<PgConnection> Connect(const ConnectionParams& params);

  // Runs one statement (or several separated by ';' when there are no parameters). Error
  // code "pg.query" with the server's message and SQLSTATE, or "pg.connection_lost" when the
  // session is gone (server shutdown or crash, cut connection; see Collect).
  common::Result<QueryResult> Exec(const std::string& sql);
  common::Result<QueryResult> Exec(const std::string& sql,
                                   const std::vector<std::optional<std::string>>& params);
  // Exec that keeps only the status.
  common::Status Run(const std::string& sql);

  // SQLSTATE of the last failed Exec ("42P01" undefined table, ...), empty if none.
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  pg_conn* raw() const { return conn_.get(); }
  const ConnectionParams& params() const { return params_; }
  int server_version() const;

 private:
  PgConnection(PgConnPtr conn, ConnectionParams params)
      : conn_(std::move(conn)), params_(std::move(params)) {}
  common::Result<QueryResult> Collect(pg_result* res, const std::string& sql);

  PgConnPtr conn_;
  ConnectionParams params_;
  std::string last_sqlstate_;
};

struct SystemIdentity {
  std::string system_id;
  int timeline = 0;
  Lsn xlog_pos;
  std::string dbname;
};

struct CreatedSlot {
  std::string slot_name;
  Lsn consistent_point;
  std::string snapshot_name;  // empty unless exported
  std::string output_plugin;
};

// One replication=database connection. Lifecycle: Connect -> commands (IDENTIFY_SYSTEM,
// CREATE_REPLICATION_SLOT, ...) -> StartReplication -> ReadMessage/SendStatus until done.
// After StartReplication only ReadMessage and SendStatus are valid.
class ReplicationConnection {
 public:
  static common::Result<ReplicationConnection> Connect(const ConnectionParams& params);

  common::Result<SystemIdentity> IdentifySystem();

  // CREATE_REPLICATION_SLOT name [TEMPORARY] LOGICAL pgoutput (SNAPSHOT 'export'|'nothing').
  // With export_snapshot the snapshot stays valid until the next command on this connection:
  // import it (SET TRANSACTION SNAPSHOT) on another connection before issuing one.
  // Error code "pg.slot_exists" when the slot exists.
  common::Result<CreatedSlot> CreateLogicalSlot(const std::string& slot, bool export_snapshot,
                                                bool temporary = false);
  common::Status DropSlot(const std::string& slot);

  // START_REPLICATION SLOT slot LOGICAL start (proto_version '1', publication_names '...').
  // Error code "pg.slot_active" when another process holds the slot, "pg.slot_missing" when
  // it does not exist.
  common::Status StartReplication(const std::string& slot, Lsn start,
                                  const std::vector<std::string>& publications);

  // The next CopyData payload, or nothing when none arrived within `timeout`. Error
  // "pg.stream_ended" when the server ended the stream, "pg.stream" on connection loss.
  common::Result<std::optional<std::string>> ReadMessage(std::chrono::milliseconds timeout);

  // Sends a Standby Status Update (write/flush/apply positions).
  common::Status SendStatus(Lsn write, Lsn flush, Lsn apply, bool reply_requested);

  // Server process id of this connection (to find it in pg_stat_replication).
  int backend_pid() const;
  pg_conn* raw() const { return conn_.get(); }

 private:
  ReplicationConnection(PgConnPtr conn, ConnectionParams params)
      : conn_(std::move(conn)), params_(std::move(params)) {}
  common::Result<QueryResult> Command(const std::string& command);

  PgConnPtr conn_;
  ConnectionParams params_;
  bool streaming_ = false;
};

// Microseconds since the Postgres epoch, now.
int64_t PostgresNowMicros();

}  // namespace rm::cdc::postgres
