#include "src-cdc/postgres/replication.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <chrono>

#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;
using common::Status;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string ConnError(pg_conn* c) { return Trim(c ? PQerrorMessage(c) : "out of memory"); }

Result<PgConnPtr> Open(const ConnectionParams& p, bool replication) {
  std::string port = std::to_string(p.port);
  std::string timeout = std::to_string(p.connect_timeout_s);
  std::string options = SessionOptions();
  if (!replication && p.statement_timeout_ms > 0) {
    options += fmt::format(" -c statement_timeout={}", p.statement_timeout_ms);
  }
  if (!p.options.empty()) options += " " + p.options;
  std::string idle = std::to_string(p.keepalives_idle_s);
  std::string interval = std::to_string(p.keepalives_interval_s);
  std::string count = std::to_string(p.keepalives_count);
  std::vector<const char*> keys = {"host",
                                   "port",
                                   "dbname",
                                   "user",
                                   "sslmode",
                                   "connect_timeout",
                                   "application_name",
                                   "options",
                                   "keepalives",
                                   "keepalives_idle",
                                   "keepalives_interval",
                                   "keepalives_count"};
  std::vector<const char*> values = {p.host.c_str(),
                                     port.c_str(),
                                     p.dbname.c_str(),
                                     p.user.c_str(),
                                     p.sslmode.c_str(),
                                     timeout.c_str(),
                                     p.application_name.c_str(),
                                     options.c_str(),
                                     "1",
                                     idle.c_str(),
                                     interval.c_str(),
                                     count.c_str()};
  if (p.password) {
    keys.push_back("password");
    values.push_back(p.password->c_str());
  }
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return Error{"pg.connect",
                 fmt::format("cannot connect to postgres {}{}: {}", p.Describe(),
                             replication ? " (replication)" : "", ConnError(conn.get()))};
  }
  return conn;
}

std::string ResultError(PGresult* res, pg_conn* conn) {
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = primary ? primary : ConnError(conn);
  const char* detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  if (detail) msg += fmt::format(" ({})", detail);
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (state) msg += fmt::format(" [SQLSTATE {}]", state);
  return msg;
}

std::string Sqlstate(PGresult* res) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return state ? state : "";
}

QueryResult ToQueryResult(PGresult* res) {
  QueryResult out;
  int ncols = PQnfields(res);
  int nrows = PQntuples(res);
  for (int c = 0; c < ncols; ++c) {
    out.columns.emplace_back(PQfname(res, c));
    out.column_types.push_back(PQftype(res, c));
  }
  out.rows.reserve(nrows);
  for (int r = 0; r < nrows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
      }
    }
    out.rows.push_back(std::move(row));
  }
  const char* status = PQcmdStatus(res);
  out.command_status = status ? status : "";
  return out;
}

}  // namespace

void PgConnDeleter::operator()(pg_conn* c) const { PQfinish(c); }

std::string ConnectionParams::Describe() const {
  return fmt::format("{}:{}/{} as {}", host, port, dbname, user);
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

int64_t PostgresNowMicros() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return us - kPostgresEpochOffsetMicros;
}

// ---- PgConnection

Result<PgConnection> PgConnection::Connect(const ConnectionParams& params) {
  auto conn = Open(params, false);
  if (!conn.ok()) return conn.error();
  return PgConnection(std::move(*conn), params);
}

int PgConnection::server_version() const { return PQserverVersion(conn_.get()); }

Result<QueryResult> PgConnection::Collect(PGresult* raw_res, const std::string& sql) {
  ResultPtr res(raw_res);
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return ToQueryResult(res.get());
  }
  last_sqlstate_ = Sqlstate(res.get());
  std::string shown = sql.size() > 200 ? sql.substr(0, 200) + "..." : sql;
  // The session is gone (server shut down or crashed, connection cut): class 08, or 57P01-03
  // (admin/crash shutdown, cannot connect now), or libpq lost the connection.
  const bool lost = PQstatus(conn_.get()) == CONNECTION_BAD || last_sqlstate_.rfind("08", 0) == 0 ||
                    last_sqlstate_ == "57P01" || last_sqlstate_ == "57P02" ||
                    last_sqlstate_ == "57P03";
  return Error{lost ? "pg.connection_lost" : "pg.query",
               fmt::format("{} failed on {}: {}", shown, params_.Describe(),
                           ResultError(res.get(), conn_.get()))};
}

Result<QueryResult> PgConnection::Exec(const std::string& sql) {
  return Collect(PQexec(conn_.get(), sql.c_str()), sql);
}

Result<QueryResult> PgConnection::Exec(const std::string& sql,
                                       const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Collect(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 sql);
}

Status PgConnection::Run(const std::string& sql) {
  auto r = Exec(sql);
  if (!r.ok()) return r.error();
  return Status::Ok();
}

// ---- ReplicationConnection

Result<ReplicationConnection> ReplicationConnection::Connect(const ConnectionParams& params) {
  auto conn = Open(params, true);
  if (!conn.ok()) return conn.error();
  return ReplicationConnection(std::move(*conn), params);
}

int ReplicationConnection::backend_pid() const { return PQbackendPID(conn_.get()); }

Result<QueryResult> ReplicationConnection::Command(const std::string& command) {
  ResultPtr res(PQexec(conn_.get(), command.c_str()));
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return ToQueryResult(res.get());
  std::string state = Sqlstate(res.get());
  std::string code = "pg.replication";
  if (state == "42710") code = "pg.slot_exists";
  if (state == "55006") code = "pg.slot_active";
  if (state == "42704") code = "pg.slot_missing";
  return Error{code, fmt::format("{} failed on {}: {}", command, params_.Describe(),
                                 ResultError(res.get(), conn_.get()))};
}

Result<SystemIdentity> ReplicationConnection::IdentifySystem() {
  auto r = Command("IDENTIFY_SYSTEM");
  if (!r.ok()) return r.error();
  if (r->rows.size() != 1 || r->rows[0].size() < 4) {
    return Error{"pg.replication", "IDENTIFY_SYSTEM returned an unexpected result"};
  }
  const auto& row = r->rows[0];
  SystemIdentity id;
  id.system_id = row[0].value_or("");
  id.timeline = std::stoi(row[1].value_or("0"));
  id.xlog_pos = Lsn::Parse(row[2].value_or("")).value_or(Lsn());
  id.dbname = row[3].value_or("");
  return id;
}

Result<CreatedSlot> ReplicationConnection::CreateLogicalSlot(const std::string& slot,
                                                             bool export_snapshot, bool temporary) {
  std::string cmd =
      fmt::format("CREATE_REPLICATION_SLOT {}{} LOGICAL pgoutput (SNAPSHOT '{}')", QuoteIdent(slot),
                  temporary ? " TEMPORARY" : "", export_snapshot ? "export" : "nothing");
  auto r = Command(cmd);
  if (!r.ok()) return r.error();
  if (r->rows.size() != 1 || r->rows[0].size() < 4) {
    return Error{"pg.replication", "CREATE_REPLICATION_SLOT returned an unexpected result"};
  }
  const auto& row = r->rows[0];
  CreatedSlot out;
  out.slot_name = row[0].value_or("");
  out.consistent_point = Lsn::Parse(row[1].value_or("")).value_or(Lsn());
  out.snapshot_name = row[2].value_or("");
  out.output_plugin = row[3].value_or("");
  return out;
}

Status ReplicationConnection::DropSlot(const std::string& slot) {
  auto r = Command(fmt::format("DROP_REPLICATION_SLOT {}", QuoteIdent(slot)));
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Status ReplicationConnection::StartReplication(const std::string& slot, Lsn start,
                                               const std::vector<std::string>& publications) {
  std::string names;
  for (const auto& p : publications) {
    if (!names.empty()) names += ",";
    names += QuoteIdent(p);
  }
  std::string cmd =
      fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                  QuoteIdent(slot), start.ToString(), QuoteLiteral(names));
  ResultPtr res(PQexec(conn_.get(), cmd.c_str()));
  if (res && PQresultStatus(res.get()) == PGRES_COPY_BOTH) {
    streaming_ = true;
    return Status::Ok();
  }
  std::string state = Sqlstate(res.get());
  std::string code = "pg.replication";
  if (state == "55006") code = "pg.slot_active";
  if (state == "42704") code = "pg.slot_missing";
  return Error{code, fmt::format("{} failed on {}: {}", cmd, params_.Describe(),
                                 ResultError(res.get(), conn_.get()))};
}

Result<std::optional<std::string>> ReplicationConnection::ReadMessage(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    char* buf = nullptr;
    int n = PQgetCopyData(conn_.get(), &buf, 1);
    if (n > 0) {
      std::string out(buf, static_cast<size_t>(n));
      PQfreemem(buf);
      return std::optional<std::string>(std::move(out));
    }
    if (n == -1) {
      ResultPtr res(PQgetResult(conn_.get()));
      std::string why = res ? ResultError(res.get(), conn_.get()) : "copy ended";
      streaming_ = false;
      return Error{"pg.stream_ended",
                   fmt::format("replication stream from {} ended: {}", params_.Describe(), why)};
    }
    if (n == -2) {
      return Error{"pg.stream", fmt::format("replication stream from {} failed: {}",
                                            params_.Describe(), ConnError(conn_.get()))};
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::optional<std::string>();
    pollfd pfd{PQsocket(conn_.get()), POLLIN, 0};
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    int pr = poll(&pfd, 1, std::max(wait_ms, 1));
    if (pr < 0 && errno != EINTR) {
      return Error{"pg.stream",
                   fmt::format("poll on replication connection failed: errno {}", errno)};
    }
    if (pr > 0 && PQconsumeInput(conn_.get()) == 0) {
      return Error{"pg.stream", fmt::format("replication stream from {} failed: {}",
                                            params_.Describe(), ConnError(conn_.get()))};
    }
  }
}

Status ReplicationConnection::SendStatus(Lsn write, Lsn flush, Lsn apply, bool reply_requested) {
  std::string msg =
      EncodeStandbyStatusUpdate(write, flush, apply, PostgresNowMicros(), reply_requested);
  if (PQputCopyData(conn_.get(), msg.data(), static_cast<int>(msg.size())) != 1 ||
      PQflush(conn_.get()) != 0) {
    return Error{"pg.stream", fmt::format("cannot send status update to {}: {}", params_.Describe(),
                                          ConnError(conn_.get()))};
  }
  return Status::Ok();
}

}  // namespace rm::cdc::postgres
