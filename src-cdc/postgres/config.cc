#include "src-cdc/postgres/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>

#include "common/config_reader.h"
#include "common/result.h"

namespace rm::cdc::postgres {

namespace {

using common::ConfigError;

// libpq's sslmode values.
constexpr std::string_view kSslModes[] = {"disable", "allow",     "prefer",
                                          "require", "verify-ca", "verify-full"};

bool IsSimpleName(const std::string& s, size_t max_len) {
  static const std::regex re("[a-z_][a-z0-9_]*");
  return !s.empty() && s.size() <= max_len && std::regex_match(s, re);
}

using Reader = common::YamlFieldReader;

void ReadConnection(Reader& r, const YAML::Node& node, const std::string& path,
                    ConnectionConfig& c) {
  if (!r.IsMap(node, path)) return;
  r.CheckKeys(node, path,
              {"host", "port", "dbname", "user", "password_env", "password_file", "sslmode",
               "connect_timeout_s", "statement_timeout_ms", "keepalives_idle_s",
               "keepalives_interval_s", "keepalives_count", "password"});
  if (node["password"]) {
    r.Problem(path + ".password",
              "passwords are never written in the config: use password_env or password_file");
  }
  r.Get(node, path, "host", c.host);
  r.Get(node, path, "port", c.port);
  r.Get(node, path, "dbname", c.dbname);
  r.Get(node, path, "user", c.user);
  common::GetSecretRef(r, node, path, "password", c.password);
  std::vector<common::EnumWord<std::string>> ssl_modes;
  for (std::string_view m : kSslModes) ssl_modes.push_back({m, std::string(m)});
  r.GetEnum(node, path, "sslmode", ssl_modes, c.sslmode);
  r.Get(node, path, "connect_timeout_s", c.connect_timeout_s);
  r.Get(node, path, "statement_timeout_ms", c.statement_timeout_ms);
  r.Get(node, path, "keepalives_idle_s", c.keepalives_idle_s);
  r.Get(node, path, "keepalives_interval_s", c.keepalives_interval_s);
  r.Get(node, path, "keepalives_count", c.keepalives_count);
}

}  // namespace

std::string_view SnapshotModeName(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial:
      return "initial";
    case SnapshotMode::kNever:
      return "never";
    case SnapshotMode::kInitialOnly:
      return "initial_only";
  }
  return "initial";
}

std::string TableName::Quoted() const { return QuoteIdent(schema) + "." + QuoteIdent(table); }

std::optional<TableName> TableName::Parse(std::string_view text) {
  if (text.empty() || text.find('"') != std::string_view::npos) return std::nullopt;
  auto dot = text.find('.');
  TableName t;
  if (dot == std::string_view::npos) {
    t.table = std::string(text);
  } else {
    if (text.find('.', dot + 1) != std::string_view::npos) return std::nullopt;
    t.schema = std::string(text.substr(0, dot));
    t.table = std::string(text.substr(dot + 1));
  }
  if (t.schema.empty() || t.table.empty()) return std::nullopt;
  return t;
}

std::vector<common::ConfigProblem> ConnectionConfig::Validate(const std::string& prefix) const {
  std::vector<common::ConfigProblem> p;
  auto problem = [&](const std::string& key, std::string why) {
    p.push_back({prefix + "." + key, std::move(why)});
  };
  if (host.empty()) problem("host", "must not be empty");
  if (port < 1 || port > 65535) problem("port", "must be within 1..65535");
  if (dbname.empty()) problem("dbname", "required");
  if (user.empty()) problem("user", "required");
  if (std::find(std::begin(kSslModes), std::end(kSslModes), sslmode) == std::end(kSslModes)) {
    problem("sslmode", common::MustBeOneOf(std::vector<std::string_view>(std::begin(kSslModes),
                                                                         std::end(kSslModes)),
                                           sslmode));
  }
  if (connect_timeout_s < 1) problem("connect_timeout_s", "must be at least 1");
  if (statement_timeout_ms < 0) problem("statement_timeout_ms", "must be 0 (none) or positive");
  for (auto [name, value] : {std::pair{"keepalives_idle_s", keepalives_idle_s},
                             std::pair{"keepalives_interval_s", keepalives_interval_s},
                             std::pair{"keepalives_count", keepalives_count}}) {
    if (value < 0) problem(name, "must be 0 (OS default) or positive");
  }
  return p;
}

ConnectionParams ConnectionConfig::Resolve(const std::string& source_file,
                                           const std::string& prefix) const {
  ConnectionParams params;
  params.host = host;
  params.port = port;
  params.dbname = dbname;
  params.user = user;
  params.sslmode = sslmode;
  params.connect_timeout_s = connect_timeout_s;
  params.statement_timeout_ms = statement_timeout_ms;
  params.keepalives_idle_s = keepalives_idle_s;
  params.keepalives_interval_s = keepalives_interval_s;
  params.keepalives_count = keepalives_count;
  if (password.given()) {
    auto pw = password.Read(prefix + ".password");
    if (!pw) throw ConfigError(fmt::format("{}: {}", source_file, pw.error().message));
    params.password = std::move(*pw);
  }
  return params;
}

std::vector<common::ConfigProblem> CaptureConfig::Validate(const std::string& prefix) const {
  std::vector<common::ConfigProblem> p = connection.Validate(prefix + ".connection");
  auto problem = [&](const std::string& key, std::string why) {
    p.push_back({prefix + "." + key, std::move(why)});
  };
  if (!IsSimpleName(slot, 63)) problem("slot", "must be 1-63 characters of a-z, 0-9 and _");
  if (!IsSimpleName(publication, 63)) {
    problem("publication", "must be 1-63 characters of a-z, 0-9 and _");
  }
  if (tables.empty()) problem("tables", "at least one table is required");
  std::set<std::string> seen;
  for (const auto& t : tables) {
    if (!seen.insert(t.Qualified()).second) problem("tables", t.Qualified() + " is listed twice");
    if (t == heartbeat_table) problem("tables", t.Qualified() + " is the heartbeat table");
  }
  static const std::regex topic_re("[A-Za-z0-9._-]+");
  if (topic_prefix.empty()) {
    problem("topic_prefix", "required");
  } else if (!std::regex_match(topic_prefix, topic_re)) {
    problem("topic_prefix", "only A-Z, a-z, 0-9, '.', '_' and '-' are allowed");
  }
  if (snapshot_chunk_rows < 1) problem("snapshot_chunk_rows", "must be at least 1");
  if (heartbeat_interval.count() < 0) {
    problem("heartbeat_interval_ms", "must be 0 (off) or positive");
  }
  if (status_interval.count() < 10 || status_interval.count() > 30000) {
    problem("status_interval_ms",
            "must be within 10..30000 (the server drops replication connections silent for "
            "wal_sender_timeout, 60 s)");
  }
  if (max_in_flight_events < 1) problem("max_in_flight_events", "must be at least 1");
  if (shutdown_timeout.count() < 0) problem("shutdown_timeout_ms", "must be >= 0");
  if (reconnect_timeout.count() < 0) problem("reconnect_timeout_ms", "must be >= 0");
  if (snapshot_ack_timeout.count() < 1) problem("snapshot_ack_timeout_ms", "must be positive");
  if (slot_lag_check_interval.count() < 100) {
    problem("slot_lag_check_interval_ms", "must be at least 100");
  }
  return p;
}

std::vector<common::ConfigProblem> PostgresCdcConfig::Validate() const {
  std::vector<common::ConfigProblem> p = capture.Validate("postgres");
  auto a = admin.Validate("postgres.admin");
  p.insert(p.end(), a.begin(), a.end());
  auto k = kafka.Validate("kafka");  // the defaults are valid: no section, no problem
  p.insert(p.end(), k.begin(), k.end());
  auto api = admin_api.Validate("admin");
  p.insert(p.end(), api.begin(), api.end());
  return p;
}

PostgresCdcConfig ParsePostgresCdcConfig(const std::string& yaml, const std::string& source_name) {
  PostgresCdcConfig cfg;
  cfg.source_file = source_name;
  std::vector<std::string> problems;
  Reader r(problems);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: not valid YAML: {}", source_name, e.what()));
  }
  // A scalar or list document has no sections; indexing it would throw yaml-cpp's BadSubscript,
  // not a ConfigError naming the file (found by the cdc_config fuzz target).
  if (!root.IsMap()) {
    throw ConfigError(fmt::format("{}: expected a mapping at the top", source_name));
  }
  YAML::Node pg = root["postgres"];
  if (!pg || !pg.IsMap()) {
    throw ConfigError(fmt::format("{}: postgres: required section is missing", source_name));
  }
  r.CheckKeys(root, "", {"postgres", "kafka", "admin"});
  cfg.kafka.Read(r, root["kafka"], "kafka", /*topics_created=*/true);
  cfg.admin_api.Read(r, root["admin"], "admin");
  const std::string path = "postgres";
  r.CheckKeys(pg, path,
              {"connection",
               "admin",
               "slot",
               "publication",
               "tables",
               "topic_prefix",
               "snapshot_mode",
               "snapshot_chunk_rows",
               "tombstones_on_delete",
               "heartbeat_interval_ms",
               "heartbeat_table",
               "status_interval_ms",
               "max_in_flight_events",
               "shutdown_timeout_ms",
               "snapshot_ack_timeout_ms",
               "reconnect_timeout_ms",
               "slot_lag_check_interval_ms",
               "slot_lag_unhealthy_bytes",
               "transforms",
               "errors.tolerance",
               "errors.deadletterqueue.topic.name",
               "schema"});
  CaptureConfig& c = cfg.capture;
  if (!pg["connection"]) r.Problem(path + ".connection", "required section is missing");
  ReadConnection(r, pg["connection"], path + ".connection", c.connection);

  // The admin connection inherits where to connect from the capture connection.
  cfg.admin = c.connection;
  cfg.admin.user = "postgres";
  cfg.admin.password = {};
  ReadConnection(r, pg["admin"], path + ".admin", cfg.admin);

  r.Get(pg, path, "slot", c.slot);
  r.Get(pg, path, "publication", c.publication);
  r.Get(pg, path, "topic_prefix", c.topic_prefix);
  if (pg["tables"]) {
    if (!pg["tables"].IsSequence()) {
      r.Problem(path + ".tables", "expected a list of table names");
    } else {
      for (const auto& t : pg["tables"]) {
        std::string name = t.IsScalar() ? t.as<std::string>() : "";
        auto parsed = TableName::Parse(name);
        if (!parsed) {
          r.Problem(path + ".tables", fmt::format("'{}' is not a table name (schema.table)", name));
        } else {
          c.tables.push_back(*parsed);
        }
      }
    }
  }
  r.GetEnum(pg, path, "snapshot_mode",
            {{"initial", SnapshotMode::kInitial},
             {"never", SnapshotMode::kNever},
             {"initial_only", SnapshotMode::kInitialOnly}},
            c.snapshot_mode);
  r.Get(pg, path, "snapshot_chunk_rows", c.snapshot_chunk_rows);
  r.Get(pg, path, "tombstones_on_delete", c.tombstones_on_delete);
  r.GetMillis(pg, path, "heartbeat_interval_ms", c.heartbeat_interval);
  std::string hb = c.heartbeat_table.Qualified();
  r.Get(pg, path, "heartbeat_table", hb);
  if (auto t = TableName::Parse(hb)) {
    c.heartbeat_table = *t;
  } else {
    r.Problem(path + ".heartbeat_table", fmt::format("'{}' is not a table name", hb));
  }
  r.GetMillis(pg, path, "status_interval_ms", c.status_interval);
  r.Get(pg, path, "max_in_flight_events", c.max_in_flight_events);
  r.GetMillis(pg, path, "shutdown_timeout_ms", c.shutdown_timeout);
  r.GetMillis(pg, path, "snapshot_ack_timeout_ms", c.snapshot_ack_timeout);
  r.GetMillis(pg, path, "reconnect_timeout_ms", c.reconnect_timeout);
  r.GetMillis(pg, path, "slot_lag_check_interval_ms", c.slot_lag_check_interval);
  r.Get(pg, path, "slot_lag_unhealthy_bytes", c.slot_lag_unhealthy_bytes);
  cdc::ReadSchemaConfig(r, pg["schema"], path + ".schema", c.schema);

  std::vector<std::string> qualified;
  for (const auto& t : c.tables) qualified.push_back(t.Qualified());
  std::vector<std::string> located;  // "<file>:<line>: ..." from the transforms reader
  c.transforms = transforms::ReadTransforms(pg, path, source_name, qualified, located);
  common::ThrowIfProblems(source_name, problems, cfg.Validate(), common::YamlLines(root), located);
  return cfg;
}

PostgresCdcConfig LoadPostgresCdcConfig(const std::filesystem::path& path) {
  return ParsePostgresCdcConfig(common::ReadConfigFile(path), path.string());
}

}  // namespace rm::cdc::postgres
