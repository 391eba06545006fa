#include "src-cdc/cassandra/capture_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "src-cdc/cassandra/jceks.h"

namespace rm::cdc::cassandra {
namespace {

using common::ConfigError;

using Reader = common::YamlFieldReader;

void ReadCapture(Reader& r, const YAML::Node& node, const std::filesystem::path& base_dir,
                 CaptureConfig& c) {
  const std::string p = "cassandra";
  r.CheckKeys(
      node, p,
      {"cdc_raw_dir", "processed", "state_dir", "topic_prefix", "cluster", "tables", "encryption",
       "poll_interval_ms", "checkpoint_interval_ms", "max_in_flight_events", "tombstones_on_delete",
       "shutdown_timeout_ms", "ack_stall_timeout_ms", "max_spill_bytes", "schema", "transforms",
       "errors.tolerance", "errors.deadletterqueue.topic.name"});
  std::string s;
  r.Get(node, p, "cdc_raw_dir", s);
  c.cdc_raw_dir = s;
  s.clear();
  r.Get(node, p, "state_dir", s);
  c.state_dir = s;
  std::string processed = "delete";
  r.Get(node, p, "processed", processed);
  if (processed == "delete") {
    c.processed = ProcessedAction::kDelete;
  } else if (processed.rfind("move:", 0) == 0 && processed.size() > 5) {
    c.processed = ProcessedAction::kMove;
    c.move_to = processed.substr(5);
  } else {
    r.Problem(p + ".processed", "must be 'delete' or 'move:<directory>', not '" + processed + "'");
  }
  r.Get(node, p, "topic_prefix", c.topic_prefix);
  r.Get(node, p, "cluster", c.cluster);
  int64_t cap = static_cast<int64_t>(c.max_in_flight_events);
  r.Get(node, p, "max_in_flight_events", cap);
  if (cap < 1) {
    r.Problem(p + ".max_in_flight_events", "must be at least 1");
  } else {
    c.max_in_flight_events = static_cast<size_t>(cap);
  }
  int64_t spill = static_cast<int64_t>(c.max_spill_bytes);
  r.Get(node, p, "max_spill_bytes", spill);
  if (spill < 0) {
    r.Problem(p + ".max_spill_bytes", "must be >= 0 (0: hold the checkpoint instead)");
  } else {
    c.max_spill_bytes = static_cast<uint64_t>(spill);
  }
  r.GetMillis(node, p, "poll_interval_ms", c.poll_interval);
  r.GetMillis(node, p, "checkpoint_interval_ms", c.checkpoint_interval);
  r.GetMillis(node, p, "shutdown_timeout_ms", c.shutdown_timeout);
  r.GetMillis(node, p, "ack_stall_timeout_ms", c.ack_stall_timeout);
  r.Get(node, p, "tombstones_on_delete", c.tombstones_on_delete);
  ReadSchemaConfig(r, node["schema"], p + ".schema", c.schema);

  const YAML::Node tables = node["tables"];
  const std::string tp = p + ".tables";
  if (r.IsMap(tables, tp)) {
    r.CheckKeys(tables, tp, {"cql", "cql_file", "include"});
    std::string cql, file;
    r.Get(tables, tp, "cql", cql);
    r.Get(tables, tp, "cql_file", file);
    r.Get(tables, tp, "include", c.include);
    if (!cql.empty() && !file.empty()) {
      r.Problem(tp + ".cql_file", "give cql or cql_file, not both");
    } else if (!file.empty()) {
      std::filesystem::path path = file;
      if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
      std::ifstream in(path);
      if (!in) {
        r.Problem(tp + ".cql_file", "cannot read " + path.string());
      } else {
        std::stringstream ss;
        ss << in.rdbuf();
        c.tables_cql = ss.str();
      }
    } else {
      c.tables_cql = cql;
    }
  }

  const YAML::Node enc = node["encryption"];
  const std::string ep = p + ".encryption";
  if (r.IsMap(enc, ep)) {
    r.CheckKeys(enc, ep,
                {"keystore", "keystore_password_env", "keystore_password_file", "key_password_env",
                 "key_password_file", "key_hex_env", "key_hex_file"});
    std::string ks;
    r.Get(enc, ep, "keystore", ks);
    c.encryption.keystore = ks;
    if (!ks.empty() && c.encryption.keystore.is_relative() && !base_dir.empty()) {
      c.encryption.keystore = base_dir / c.encryption.keystore;
    }
    common::GetSecretRef(r, enc, ep, "keystore_password", c.encryption.keystore_password);
    common::GetSecretRef(r, enc, ep, "key_password", c.encryption.key_password);
    common::GetSecretRef(r, enc, ep, "key_hex", c.encryption.key_hex);
  }
}

}  // namespace

std::vector<common::ConfigProblem> EncryptionConfig::Validate(const std::string& prefix) const {
  std::vector<common::ConfigProblem> p;
  if (!keystore.empty() && key_hex.given()) {
    p.push_back({prefix + ".key_hex_env", "give keystore or key_hex_env/key_hex_file, not both"});
    return p;
  }
  if (!keystore.empty() && !keystore_password.given()) {
    p.push_back(
        {prefix + ".keystore_password_env", "required with keystore (or keystore_password_file)"});
    return p;
  }
  if (!enabled()) return p;
  // BuildKeyProvider's errors are "<field>: <why>", the field being one of this block's.
  auto keys = BuildKeyProvider(prefix);
  if (!keys.ok()) p.push_back(common::ConfigProblem::FromFieldMessage(keys.error().message));
  return p;
}

common::Result<std::unique_ptr<KeyProvider>> EncryptionConfig::BuildKeyProvider(
    const std::string& prefix) const {
  if (key_hex.given()) {
    auto hex = key_hex.Read(prefix + ".key_hex");
    if (!hex.ok()) return hex.error();
    auto provider = std::make_unique<StaticKeyProvider>();
    // AddHexKey validates the hex; the key is then used for every alias.
    if (auto s = provider->AddHexKey("default", hex.value()); !s.ok()) {
      return common::Error{"config", fmt::format("{}.key_hex: {}", prefix, s.error().message)};
    }
    auto raw = provider->GetKey("default");
    provider->SetDefaultKey(raw.value());
    return std::unique_ptr<KeyProvider>(std::move(provider));
  }
  if (keystore.empty()) return std::unique_ptr<KeyProvider>();
  auto store_pw = keystore_password.Read(prefix + ".keystore_password");
  if (!store_pw.ok()) return store_pw.error();
  std::string key_pw = store_pw.value();
  if (key_password.given()) {
    auto v = key_password.Read(prefix + ".key_password");
    if (!v.ok()) return v.error();
    key_pw = v.value();
  }
  auto loaded = JceksKeyProvider::Load(keystore, store_pw.value(), key_pw);
  if (!loaded.ok()) {
    return common::Error{"config", fmt::format("{}.keystore: {}", prefix, loaded.error().message)};
  }
  return std::unique_ptr<KeyProvider>(
      std::make_unique<JceksKeyProvider>(std::move(loaded).value()));
}

common::Result<Schema> CaptureConfig::BuildSchema() const {
  auto tables = ParseCreateTables(tables_cql);
  if (!tables.ok()) return tables.error();
  std::set<std::string> wanted(include.begin(), include.end());
  std::set<std::string> declared;
  Schema schema;
  for (auto& t : tables.value()) {
    const std::string name = t.QualifiedName();
    declared.insert(name);
    const bool captured = wanted.empty() ? t.cdc : wanted.count(name) > 0;
    if (!captured) continue;
    if (auto s = schema.AddTable(std::move(t)); !s.ok()) {
      return common::Error{"config", fmt::format("table {}: {}", name, s.error().message)};
    }
  }
  for (const auto& w : wanted) {
    if (!declared.count(w)) {
      return common::Error{"config",
                           fmt::format("include: table {} is not declared in the CQL", w)};
    }
  }
  if (schema.size() == 0) {
    return common::Error{"config",
                         "no table to capture: declare tables WITH cdc = true or list them in "
                         "include"};
  }
  return schema;
}

std::vector<common::ConfigProblem> CaptureConfig::Validate(const std::string& prefix) const {
  std::vector<common::ConfigProblem> p;
  auto problem = [&](const std::string& key, std::string why) {
    p.push_back({prefix + "." + key, std::move(why)});
  };
  std::error_code ec;
  if (cdc_raw_dir.empty()) {
    problem("cdc_raw_dir", "required");
  } else if (!std::filesystem::is_directory(cdc_raw_dir, ec)) {
    problem("cdc_raw_dir",
            cdc_raw_dir.string() + " is not a directory" + (ec ? " (" + ec.message() + ")" : ""));
  }
  if (state_dir.empty()) problem("state_dir", "required");
  if (processed == ProcessedAction::kMove && !cdc_raw_dir.empty() &&
      std::filesystem::weakly_canonical(move_to, ec) ==
          std::filesystem::weakly_canonical(cdc_raw_dir, ec)) {
    problem("processed", "the move directory must not be cdc_raw itself");
  }
  static const std::regex topic_re("[A-Za-z0-9._-]+");
  if (topic_prefix.empty()) {
    problem("topic_prefix", "required");
  } else if (!std::regex_match(topic_prefix, topic_re)) {
    problem("topic_prefix", "only A-Z, a-z, 0-9, '.', '_' and '-' are allowed");
  }
  if (tables_cql.empty()) {
    problem("tables", "required (cql or cql_file with CREATE TABLE ... WITH ID)");
  } else if (auto s = BuildSchema(); !s.ok()) {
    problem("tables", s.error().message);
  }
  auto e = encryption.Validate(prefix + ".encryption");
  p.insert(p.end(), e.begin(), e.end());
  if (poll_interval.count() < 1 || poll_interval.count() > 60000) {
    problem("poll_interval_ms", "must be within 1..60000");
  }
  if (checkpoint_interval.count() < 1) problem("checkpoint_interval_ms", "must be at least 1");
  if (shutdown_timeout.count() < 0) problem("shutdown_timeout_ms", "must be >= 0");
  if (ack_stall_timeout.count() < 1) problem("ack_stall_timeout_ms", "must be at least 1");
  return p;
}

std::vector<common::ConfigProblem> CassandraCdcConfig::Validate() const {
  std::vector<common::ConfigProblem> p = capture.Validate("cassandra");
  auto k = kafka.Validate("kafka");
  p.insert(p.end(), k.begin(), k.end());
  // The secrets are read here already, so a variable that is unset fails at start-up.
  auto props = kafka.CheckClientProperties("kafka");
  p.insert(p.end(), props.begin(), props.end());
  auto api = admin.Validate("admin");
  p.insert(p.end(), api.begin(), api.end());
  return p;
}

CassandraCdcConfig ParseCassandraCdcConfig(const std::string& yaml, const std::string& source_name,
                                           const std::filesystem::path& base_dir) {
  CassandraCdcConfig cfg;
  cfg.source_file = source_name;
  std::vector<std::string> problems;
  Reader r(problems);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        fmt::format("{}: line {}: not valid YAML: {}", source_name, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap())
    throw ConfigError(fmt::format("{}: expected a mapping at the top", source_name));
  r.CheckKeys(root, "", {"cassandra", "kafka", "admin"});
  const YAML::Node cass = root["cassandra"];
  std::vector<std::string> located;  // "<file>:<line>: ..." from the transforms reader
  if (r.IsMap(cass, "cassandra")) {
    ReadCapture(r, cass, base_dir, cfg.capture);
    std::vector<std::string> captured;
    if (auto schema = cfg.capture.BuildSchema(); schema.ok()) {
      for (const TableSchema* t : schema->Tables()) captured.push_back(t->QualifiedName());
    }
    cfg.capture.transforms =
        transforms::ReadTransforms(cass, "cassandra", source_name, captured, located);
    if (!cfg.capture.transforms.empty() &&
        cfg.capture.schema.envelope == EnvelopeFormat::kJsonWithSchema) {
      // The schemas describe the captured row; a transformed event may have another shape.
      r.Problem("cassandra.schema.envelope",
                "json_with_schema cannot be combined with transforms yet (the schema would "
                "describe the row before the transforms); use envelope: plain");
    }
  } else if (!cass) {
    r.Problem("cassandra", "required section is missing");
  }
  if (!root["kafka"]) r.Problem("kafka", "required section is missing");
  cfg.kafka.Read(r, root["kafka"], "kafka", /*topics_created=*/false);
  cfg.admin.Read(r, root["admin"], "admin");
  common::ThrowIfProblems(source_name, problems, cfg.Validate(), common::YamlLines(root), located);
  return cfg;
}

CassandraCdcConfig LoadCassandraCdcConfig(const std::filesystem::path& path) {
  return ParseCassandraCdcConfig(common::ReadConfigFile(path), path.string(), path.parent_path());
}

}  // namespace rm::cdc::cassandra
