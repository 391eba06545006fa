#include "src-cdc/postgres/provision.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <set>

#include "src-cdc/postgres/replication.h"

namespace rm::cdc::postgres {

namespace {

using common::Status;

// Collects the report; `txn_steps` remembers which steps ran inside the open transaction so
// they can be marked rolled back.
class Runner {
 public:
  Runner(const PostgresCdcConfig& cfg, const ProvisionOptions& opts) : cfg_(cfg), opts_(opts) {}

  void Add(std::string step, StepOutcome outcome, std::string detail) {
    report_.steps.push_back({std::move(step), outcome, std::move(detail)});
  }
  bool failed() const { return !report_.ok(); }
  ProvisionReport& report() { return report_; }
  const CaptureConfig& cap() const { return cfg_.capture; }
  bool dry() const { return opts_.dry_run; }

 private:
  const PostgresCdcConfig& cfg_;
  const ProvisionOptions& opts_;
  ProvisionReport report_;
};

std::vector<TableName> PublishedTables(const CaptureConfig& c) {
  std::vector<TableName> t = c.tables;
  t.push_back(c.heartbeat_table);
  return t;
}

std::string TableList(const std::vector<TableName>& tables) {
  std::string out;
  for (const auto& t : tables) out += (out.empty() ? "" : ", ") + t.Quoted();
  return out;
}

bool Exists(PgConnection& conn, const std::string& sql,
            const std::vector<std::optional<std::string>>& params, Status& error) {
  auto r = conn.Exec(sql, params);
  if (!r.ok()) {
    error = r.error();
    return false;
  }
  return !r->rows.empty() && r->rows[0][0].value_or("f") == "t";
}

}  // namespace

std::string_view StepOutcomeName(StepOutcome outcome) {
  switch (outcome) {
    case StepOutcome::kDone:
      return "done";
    case StepOutcome::kAlreadyDone:
      return "already done";
    case StepOutcome::kWouldDo:
      return "would do";
    case StepOutcome::kFailed:
      return "failed";
    case StepOutcome::kSkipped:
      return "skipped";
    case StepOutcome::kRolledBack:
      return "rolled back";
  }
  return "?";
}

bool ProvisionReport::ok() const {
  for (const auto& s : steps) {
    if (s.outcome == StepOutcome::kFailed || s.outcome == StepOutcome::kRolledBack) return false;
  }
  return true;
}

std::string ProvisionReport::Format() const {
  std::string out;
  for (const auto& s : steps) {
    out += fmt::format("[{}] {}: {}\n", StepOutcomeName(s.outcome), s.step, s.detail);
  }
  return out;
}

ProvisionReport Provision(const PostgresCdcConfig& config, const ConnectionParams& admin,
                          const std::optional<std::string>& role_password,
                          const ProvisionOptions& options) {
  Runner run(config, options);
  const CaptureConfig& cap = config.capture;
  const bool dry = options.dry_run;

  // 1. connect
  auto connected = PgConnection::Connect(admin);
  if (!connected.ok()) {
    run.Add("connect", StepOutcome::kFailed, connected.error().message);
    return run.report();
  }
  PgConnection& conn = *connected;
  run.Add("connect", StepOutcome::kDone, "connected to " + admin.Describe());

  // 2. wal_level
  auto wal = conn.Exec(
      "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, "
      "current_setting('max_wal_senders')::int");
  if (!wal.ok()) {
    run.Add("wal_level", StepOutcome::kFailed, wal.error().message);
    return run.report();
  }
  std::string level = wal->rows[0][0].value_or("");
  int slots = std::stoi(wal->rows[0][1].value_or("0"));
  int senders = std::stoi(wal->rows[0][2].value_or("0"));
  if (level != "logical") {
    run.Add("wal_level", StepOutcome::kFailed,
            fmt::format("wal_level is '{}'; set 'wal_level = logical' in postgresql.conf (or "
                        "ALTER SYSTEM SET wal_level = logical) and restart the server",
                        level));
    return run.report();
  }
  if (slots < 1 || senders < 1) {
    run.Add("wal_level", StepOutcome::kFailed,
            fmt::format("max_replication_slots = {} and max_wal_senders = {}; both must be at "
                        "least 1 (set them in postgresql.conf and restart the server)",
                        slots, senders));
    return run.report();
  }
  run.Add("wal_level", StepOutcome::kAlreadyDone, "wal_level is logical");

  // 3. tables: all checks before any change.
  std::vector<std::string> missing, no_pk;
  for (const auto& t : cap.tables) {
    auto r = conn.Exec(
        "SELECT to_regclass($1) IS NOT NULL, EXISTS (SELECT 1 FROM pg_index WHERE indrelid = "
        "to_regclass($1) AND indisprimary)",
        {t.Quoted()});
    if (!r.ok()) {
      run.Add("tables", StepOutcome::kFailed, r.error().message);
      return run.report();
    }
    if (r->rows[0][0].value_or("f") != "t") {
      missing.push_back(t.Qualified());
    } else if (r->rows[0][1].value_or("f") != "t") {
      no_pk.push_back(t.Qualified());
    }
  }
  if (!missing.empty()) {
    run.Add("tables", StepOutcome::kFailed,
            fmt::format("{} not found in database {}; nothing was changed",
                        fmt::join(missing, ", "), admin.dbname));
    return run.report();
  }
  run.Add("tables", StepOutcome::kAlreadyDone,
          no_pk.empty() ? fmt::format("{} table(s) present", cap.tables.size())
                        : fmt::format("{} table(s) present; without primary key (null Kafka "
                                      "keys, updates/deletes need REPLICA IDENTITY FULL): {}",
                                      cap.tables.size(), fmt::join(no_pk, ", ")));

  // 4. slot (outside the transaction: slot creation refuses to run in one that wrote).
  bool created_slot = false;
  Status err;
  if (cap.snapshot_mode == SnapshotMode::kInitialOnly) {
    run.Add("slot " + cap.slot, StepOutcome::kSkipped, "snapshot_mode initial_only uses no slot");
  } else {
    auto r = conn.Exec("SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1",
                       {cap.slot});
    if (!r.ok()) {
      run.Add("slot " + cap.slot, StepOutcome::kFailed, r.error().message);
      return run.report();
    }
    if (!r->rows.empty()) {
      std::string plugin = r->rows[0][0].value_or(""), db = r->rows[0][1].value_or("");
      if (plugin != "pgoutput" || db != admin.dbname) {
        run.Add("slot " + cap.slot, StepOutcome::kFailed,
                fmt::format("slot exists with plugin {} on database {}; expected pgoutput on {}",
                            plugin, db, admin.dbname));
        return run.report();
      }
      run.Add("slot " + cap.slot, StepOutcome::kAlreadyDone, "exists (pgoutput)");
    } else if (dry) {
      run.Add("slot " + cap.slot, StepOutcome::kWouldDo,
              fmt::format("SELECT pg_create_logical_replication_slot({}, 'pgoutput')",
                          QuoteLiteral(cap.slot)));
    } else {
      auto c = conn.Exec("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", {cap.slot});
      if (!c.ok()) {
        run.Add("slot " + cap.slot, StepOutcome::kFailed, c.error().message);
        return run.report();
      }
      created_slot = true;
      run.Add("slot " + cap.slot, StepOutcome::kDone, "created (pgoutput)");
    }
  }

  // 5-8 in one transaction.
  size_t txn_first = run.report().steps.size();
  auto fail_txn = [&](const std::string& step, const std::string& why) {
    run.Add(step, StepOutcome::kFailed, why);
    if (!dry) conn.Run("ROLLBACK").PermitUnchecked();
    for (size_t i = txn_first; i + 1 < run.report().steps.size(); ++i) {
      auto& s = run.report().steps[i];
      if (s.outcome == StepOutcome::kDone) {
        s.outcome = StepOutcome::kRolledBack;
        s.detail += " (rolled back)";
      }
    }
    if (created_slot) {
      auto d = conn.Exec("SELECT pg_drop_replication_slot($1)", {cap.slot});
      run.Add("slot " + cap.slot, d.ok() ? StepOutcome::kRolledBack : StepOutcome::kFailed,
              d.ok() ? "dropped again: it was created by this run"
                     : "could not drop the slot created by this run: " + d.error().message);
    }
    return run.report();
  };
  if (!dry) {
    if (auto st = conn.Run("BEGIN"); !st.ok()) return fail_txn("transaction", st.error().message);
  }
  // Runs `sql` (or, when dry, reports it) for a step.
  auto apply = [&](const std::string& step, const std::string& sql, const std::string& shown,
                   const std::string& done_detail) -> bool {
    if (dry) {
      run.Add(step, StepOutcome::kWouldDo, shown);
      return true;
    }
    auto st = conn.Run(sql);
    if (!st.ok()) {
      fail_txn(step, st.error().message);
      return false;
    }
    run.Add(step, StepOutcome::kDone, done_detail);
    return true;
  };

  // 5. role
  const std::string& role = cap.connection.user;
  const std::string role_step = "role " + role;
  auto role_row = conn.Exec(
      "SELECT rolcanlogin, rolreplication, rolsuper FROM pg_roles WHERE rolname = $1", {role});
  if (!role_row.ok()) return fail_txn(role_step, role_row.error().message);
  if (role_row->rows.empty()) {
    std::string sql = fmt::format("CREATE ROLE {} LOGIN REPLICATION", QuoteIdent(role));
    std::string shown = sql;
    if (role_password) {
      // A SCRAM verifier, so the clear-text password never reaches the server's logs.
      char* verifier =
          PQencryptPasswordConn(conn.raw(), role_password->c_str(), role.c_str(), nullptr);
      if (verifier == nullptr) return fail_txn(role_step, "cannot encrypt the password");
      sql += " PASSWORD " + QuoteLiteral(verifier);
      PQfreemem(verifier);
      shown += " PASSWORD '<from " +
               (cap.connection.password.env.empty()
                    ? "file " + cap.connection.password.file
                    : "environment variable " + cap.connection.password.env) +
               ">'";
    }
    if (!apply(role_step, sql, shown, "created with LOGIN REPLICATION")) {
      return run.report();
    }
  } else {
    const auto& r = role_row->rows[0];
    bool login = r[0].value_or("f") == "t", repl = r[1].value_or("f") == "t";
    bool super = r[2].value_or("f") == "t";
    if (super || (login && repl)) {
      run.Add(role_step, StepOutcome::kAlreadyDone,
              super ? "exists (superuser)" : "exists with LOGIN REPLICATION (password unchanged)");
    } else if (!apply(role_step, fmt::format("ALTER ROLE {} LOGIN REPLICATION", QuoteIdent(role)),
                      fmt::format("ALTER ROLE {} LOGIN REPLICATION", QuoteIdent(role)),
                      "granted LOGIN REPLICATION")) {
      return run.report();
    }
  }

  // 6. heartbeat table
  const auto& hb = cap.heartbeat_table;
  const std::string hb_step = "heartbeat " + hb.Qualified();
  bool hb_exists = Exists(conn, "SELECT to_regclass($1) IS NOT NULL", {hb.Quoted()}, err);
  if (!err.ok()) return fail_txn(hb_step, err.error().message);
  if (hb_exists) {
    run.Add(hb_step, StepOutcome::kAlreadyDone, "exists");
  } else {
    std::string sql = fmt::format(
        "CREATE TABLE {} (slot_name text PRIMARY KEY, heartbeat_at timestamptz NOT NULL DEFAULT "
        "now(), snapshot_completed_at timestamptz, snapshot_lsn pg_lsn)",
        hb.Quoted());
    if (!apply(hb_step, sql, sql, "created")) return run.report();
  }

  // 7. grants (least privilege: read the captured tables, maintain the heartbeat row).
  std::vector<std::string> grants;
  std::set<std::string> schemas;
  for (const auto& t : PublishedTables(cap)) schemas.insert(t.schema);
  for (const auto& s : schemas) {
    bool has = Exists(conn, "SELECT has_schema_privilege($1, $2, 'USAGE')", {role, s}, err);
    if (!err.ok() && hb_exists) return fail_txn("grants", err.error().message);
    if (!has || !err.ok()) {
      grants.push_back(
          fmt::format("GRANT USAGE ON SCHEMA {} TO {}", QuoteIdent(s), QuoteIdent(role)));
    }
    err = Status::Ok();
  }
  auto need = [&](const TableName& t, const std::string& privs) {
    bool table_exists = !(t == hb) || hb_exists;
    bool has =
        table_exists && !role_row->rows.empty() &&
        Exists(conn, "SELECT has_table_privilege($1, $2, $3)", {role, t.Quoted(), privs}, err);
    err = Status::Ok();
    if (!has) {
      grants.push_back(
          fmt::format("GRANT {} ON TABLE {} TO {}", privs, t.Quoted(), QuoteIdent(role)));
    }
  };
  for (const auto& t : cap.tables) need(t, "SELECT");
  need(hb, "SELECT, INSERT, UPDATE");
  if (grants.empty()) {
    run.Add("grants", StepOutcome::kAlreadyDone, "USAGE and SELECT already granted");
  } else {
    std::string sql;
    for (const auto& g : grants) sql += g + ";";
    if (!apply("grants", sql, fmt::format("{}", fmt::join(grants, "; ")),
               fmt::format("{} grant(s)", grants.size()))) {
      return run.report();
    }
  }

  // 8. publication
  const std::string pub_step = "publication " + cap.publication;
  auto pub = conn.Exec(
      "SELECT t.schemaname, t.tablename FROM pg_publication p LEFT JOIN pg_publication_tables t "
      "ON t.pubname = p.pubname WHERE p.pubname = $1",
      {cap.publication});
  if (!pub.ok()) return fail_txn(pub_step, pub.error().message);
  std::set<std::string> have, want;
  for (const auto& row : pub->rows) {
    if (row[0]) have.insert(*row[0] + "." + row[1].value_or(""));
  }
  for (const auto& t : PublishedTables(cap)) want.insert(t.Qualified());
  if (!pub->rows.empty() && have == want) {
    run.Add(pub_step, StepOutcome::kAlreadyDone, fmt::format("covers {}", fmt::join(want, ", ")));
  } else {
    std::string sql =
        pub->rows.empty()
            ? fmt::format("CREATE PUBLICATION {} FOR TABLE {}", QuoteIdent(cap.publication),
                          TableList(PublishedTables(cap)))
            : fmt::format("ALTER PUBLICATION {} SET TABLE {}", QuoteIdent(cap.publication),
                          TableList(PublishedTables(cap)));
    if (!apply(pub_step, sql, sql, pub->rows.empty() ? "created" : "table list updated")) {
      return run.report();
    }
  }

  if (!dry) {
    if (auto st = conn.Run("COMMIT"); !st.ok()) return fail_txn("commit", st.error().message);
  }

  // 9. topics
  const std::vector<TopicSpec> specs = CaptureTopics(cap);
  std::vector<std::string> topics;
  for (const auto& t : specs) topics.push_back(t.name);
  if (options.topics == nullptr) {
    run.Add(
        "topics", StepOutcome::kSkipped,
        fmt::format("no Kafka topic provisioner configured; needed: {}", fmt::join(topics, ", ")));
  } else {
    run.report().steps.push_back(options.topics->EnsureTopics(specs, dry));
  }
  return run.report();
}

std::vector<TopicSpec> CaptureTopics(const CaptureConfig& cap) {
  std::vector<TopicSpec> topics;
  auto add = [&](TopicSpec spec) {
    for (const auto& t : topics) {
      if (t.name == spec.name) return;
    }
    topics.push_back(std::move(spec));
  };
  // Where records go after the transforms' unconditional RegexRouters, and the dead-letter topic.
  for (const auto& t : cap.tables) {
    add({cap.transforms.RoutedTopic(t.Qualified(), cap.TopicFor(t)), 0, {}});
  }
  if (!cap.transforms.dead_letter_topic.empty()) add({cap.transforms.dead_letter_topic, 0, {}});
  if (cap.schema.history) {
    add({cap.HistoryTopic(),
         1,
         {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}}});
  }
  return topics;
}

int RunProvision(const std::filesystem::path& config_path, bool dry_run, std::ostream& out,
                 TopicProvisioner* topics) {
  PostgresCdcConfig cfg = LoadPostgresCdcConfig(config_path);
  ConnectionParams admin = cfg.admin.Resolve(cfg.source_file, "postgres.admin");
  admin.application_name = "regionmirror-provision";
  ConnectionParams capture = cfg.capture.connection.Resolve(cfg.source_file, "postgres.connection");
  ProvisionOptions options;
  options.dry_run = dry_run;
  options.topics = topics;
  auto report = Provision(cfg, admin, capture.password, options);
  out << report.Format();
  return report.ok() ? 0 : 1;
}

}  // namespace rm::cdc::postgres
