#include "src-cdc/transforms/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "common/config_reader.h"
#include "src-cdc/transforms/builtin.h"

namespace rm::cdc::transforms {

namespace {

// Reads one capture's transform options, collecting every problem with file, line and field.
class Reader {
 public:
  Reader(std::string source, std::vector<std::string>& problems)
      : source_(std::move(source)), problems_(problems) {}

  void Problem(const YAML::Node& node, const std::string& field, const std::string& why) {
    const int line = node && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    problems_.push_back(line > 0 ? fmt::format("{}:{}: {}: {}", source_, line, field, why)
                                 : fmt::format("{}: {}: {}", source_, field, why));
  }

  // False, with a problem, for a list or map used as a key (reading it as a string throws).
  bool ScalarKey(const YAML::Node& key, const std::string& field) {
    if (key.IsScalar()) return true;
    Problem(key, field,
            fmt::format("a key is a {}, expected a field name", key.IsMap() ? "map" : "list"));
    return false;
  }

  // A scalar as text; a problem (and nullopt) for anything else.
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) {
      Problem(node, field, "expected a string");
      return std::nullopt;
    }
    return node.as<std::string>();
  }

  std::optional<bool> Bool(const YAML::Node& node, const std::string& field) {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      Problem(node, field, "expected true or false");
      return std::nullopt;
    }
  }

  // A list of strings, written as a YAML list or, as Connect does, one comma-separated string.
  std::vector<std::string> List(const YAML::Node& node, const std::string& field) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
      std::string text = node.as<std::string>();
      size_t start = 0;
      while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = Trim(text.substr(start, comma - start));
        if (!item.empty()) out.push_back(item);
        start = comma + 1;
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        if (auto s = Scalar(node[i], fmt::format("{}[{}]", field, i))) out.push_back(Trim(*s));
      }
    } else {
      Problem(node, field, "expected a list or a comma-separated string");
    }
    return out;
  }

  // "a:b" pairs: a map, a list of "a:b", or one "a:b,c:d" string.
  std::vector<std::pair<std::string, std::string>> Pairs(const YAML::Node& node,
                                                         const std::string& field) {
    std::vector<std::pair<std::string, std::string>> out;
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (!ScalarKey(kv.first, field)) continue;
        auto v = Scalar(kv.second, field + "." + kv.first.as<std::string>());
        if (v) out.emplace_back(kv.first.as<std::string>(), Trim(*v));
      }
      return out;
    }
    for (const std::string& item : List(node, field)) {
      const size_t colon = item.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
        Problem(node, field, fmt::format("'{}' is not name:value", item));
        continue;
      }
      out.emplace_back(Trim(item.substr(0, colon)), Trim(item.substr(colon + 1)));
    }
    return out;
  }

  std::optional<std::regex> Regex(const YAML::Node& node, const std::string& field) {
    auto text = Scalar(node, field);
    if (!text) return std::nullopt;
    try {
      return std::regex(*text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      Problem(node, field,
              fmt::format("'{}' is not a valid regular expression: {}", *text, e.what()));
      return std::nullopt;
    }
  }

  static std::string Trim(std::string s) {
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
  }

 private:
  std::string source_;
  std::vector<std::string>& problems_;
};

// The short type names and the class names Connect and Debezium users write.
std::optional<std::string> CanonicalType(const std::string& type) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"ExtractNewRecordState", "ExtractNewRecordState"},
      {"io.debezium.transforms.ExtractNewRecordState", "ExtractNewRecordState"},
      {"ReplaceField", "ReplaceField"},
      {"ReplaceField$Value", "ReplaceField"},
      {"org.apache.kafka.connect.transforms.ReplaceField$Value", "ReplaceField"},
      {"InsertField", "InsertField"},
      {"InsertField$Value", "InsertField"},
      {"org.apache.kafka.connect.transforms.InsertField$Value", "InsertField"},
      {"Cast", "Cast"},
      {"Cast$Value", "Cast"},
      {"org.apache.kafka.connect.transforms.Cast$Value", "Cast"},
      {"ValueToKey", "ValueToKey"},
      {"org.apache.kafka.connect.transforms.ValueToKey", "ValueToKey"},
      {"RegexRouter", "RegexRouter"},
      {"org.apache.kafka.connect.transforms.RegexRouter", "RegexRouter"},
      {"Filter", "Filter"},
      {"org.apache.kafka.connect.transforms.Filter", "Filter"},
  };
  for (const auto& [name, canonical] : kNames) {
    if (type == name) return std::string(canonical);
  }
  return std::nullopt;
}

const std::vector<std::string>& OptionKeys(const std::string& type) {
  static const std::map<std::string, std::vector<std::string>> kKeys = {
      {"ExtractNewRecordState",
       {"delete.tombstone.handling.mode", "delete.handling.mode", "drop.tombstones", "add.fields",
        "add.fields.prefix", "route.by.field"}},
      {"ReplaceField", {"exclude", "include", "renames"}},
      {"InsertField",
       {"static.field", "static.value", "topic.field", "timestamp.field", "offset.field"}},
      {"Cast", {"spec"}},
      {"ValueToKey", {"fields"}},
      {"RegexRouter", {"regex", "replacement"}},
      {"Filter", {}},
  };
  return kKeys.at(type);
}

bool IsTopicName(const std::string& s) {
  static const std::regex re("[A-Za-z0-9._-]{1,249}");
  return std::regex_match(s, re);
}

std::optional<Predicate> ReadPredicate(Reader& r, const YAML::Node& node,
                                       const std::string& field) {
  if (!node.IsMap()) {
    r.Problem(node, field, "expected a map (op, topic, field with equals, in, matches or is_null)");
    return std::nullopt;
  }
  static const std::set<std::string> kKeys = {"op", "topic",   "field",  "equals",
                                              "in", "matches", "is_null"};
  Predicate p;
  bool ok = true;
  for (const auto& kv : node) {
    if (!r.ScalarKey(kv.first, field)) {
      ok = false;
      continue;
    }
    const std::string key = kv.first.as<std::string>();
    if (!kKeys.count(key)) {
      r.Problem(kv.first, field + "." + key,
                "unknown field (known here: op, topic, field, equals, in, matches, is_null)");
      ok = false;
    }
  }
  if (node["op"]) {
    p.ops = r.List(node["op"], field + ".op");
    if (p.ops.empty()) r.Problem(node["op"], field + ".op", "at least one operation code");
  }
  if (node["topic"]) {
    p.topic = r.Regex(node["topic"], field + ".topic");
    ok = ok && p.topic.has_value();
  }
  int tests = 0;
  if (node["equals"]) {
    ++tests;
    p.test = Predicate::FieldTest::kEquals;
    if (auto v = r.Scalar(node["equals"], field + ".equals")) p.values = {*v};
  }
  if (node["in"]) {
    ++tests;
    p.test = Predicate::FieldTest::kIn;
    p.values = r.List(node["in"], field + ".in");
  }
  if (node["matches"]) {
    ++tests;
    p.test = Predicate::FieldTest::kMatches;
    p.pattern = r.Regex(node["matches"], field + ".matches");
    ok = ok && p.pattern.has_value();
  }
  if (node["is_null"]) {
    ++tests;
    p.test = Predicate::FieldTest::kIsNull;
    if (auto b = r.Bool(node["is_null"], field + ".is_null")) p.is_null = *b;
  }
  if (node["field"]) {
    if (auto f = r.Scalar(node["field"], field + ".field")) p.field = *f;
    if (tests != 1) {
      r.Problem(node["field"], field + ".field",
                "needs exactly one of equals, in, matches, is_null");
      ok = false;
    }
  } else if (tests > 0) {
    r.Problem(node, field, "equals, in, matches and is_null need a field");
    ok = false;
  }
  if (!node["op"] && !node["topic"] && !node["field"]) {
    r.Problem(node, field, "empty predicate: set op, topic or field");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return p;
}

// The transform of one step; nullptr when its options have problems (reported).
std::shared_ptr<const Transform> BuildTransform(Reader& r, const YAML::Node& node,
                                                const std::string& type, const std::string& field) {
  const auto opt = [&](const char* key) { return node[key]; };
  const auto path = [&](const char* key) { return field + "." + key; };
  bool ok = true;
  const auto require = [&](const char* key) {
    if (!node[key]) {
      r.Problem(node, path(key), "required");
      ok = false;
      return false;
    }
    return true;
  };

  if (type == "ExtractNewRecordState") {
    ExtractNewRecordStateOptions o;
    if (opt("delete.tombstone.handling.mode")) {
      if (opt("delete.handling.mode") || opt("drop.tombstones")) {
        r.Problem(opt("delete.tombstone.handling.mode"), path("delete.tombstone.handling.mode"),
                  "replaces delete.handling.mode and drop.tombstones: set one or the others");
        ok = false;
      }
      auto mode =
          r.Scalar(opt("delete.tombstone.handling.mode"), path("delete.tombstone.handling.mode"));
      if (mode == "drop") {
        o.deletes = DeleteHandling::kDrop;
      } else if (mode == "tombstone") {
        o.deletes = DeleteHandling::kTombstone;
      } else if (mode == "rewrite") {
        o.deletes = DeleteHandling::kRewrite;
      } else if (mode == "rewrite-with-tombstone") {
        o.deletes = DeleteHandling::kRewriteWithTombstone;
      } else if (mode) {
        r.Problem(
            opt("delete.tombstone.handling.mode"), path("delete.tombstone.handling.mode"),
            common::MustBeOneOf({"drop", "tombstone", "rewrite", "rewrite-with-tombstone"}, *mode));
        ok = false;
      }
    } else if (opt("delete.handling.mode") || opt("drop.tombstones")) {
      // The older pair, with its defaults (drop, true).
      std::string mode = "drop";
      bool drop_tombstones = true;
      if (opt("delete.handling.mode")) {
        mode = r.Scalar(opt("delete.handling.mode"), path("delete.handling.mode")).value_or(mode);
      }
      if (opt("drop.tombstones")) {
        drop_tombstones = r.Bool(opt("drop.tombstones"), path("drop.tombstones")).value_or(true);
      }
      if (mode == "drop") {
        o.deletes = drop_tombstones ? DeleteHandling::kDrop : DeleteHandling::kTombstone;
      } else if (mode == "rewrite") {
        o.deletes =
            drop_tombstones ? DeleteHandling::kRewrite : DeleteHandling::kRewriteWithTombstone;
      } else if (mode == "none") {
        o.deletes = drop_tombstones ? DeleteHandling::kTombstone : DeleteHandling::kNullValue;
      } else {
        r.Problem(opt("delete.handling.mode"), path("delete.handling.mode"),
                  common::MustBeOneOf({"drop", "rewrite", "none"}, mode));
        ok = false;
      }
    }
    if (opt("add.fields")) o.add_fields = r.List(opt("add.fields"), path("add.fields"));
    if (opt("add.fields.prefix")) {
      o.add_fields_prefix =
          r.Scalar(opt("add.fields.prefix"), path("add.fields.prefix")).value_or("__");
    }
    if (opt("route.by.field")) {
      o.route_by_field = r.Scalar(opt("route.by.field"), path("route.by.field")).value_or("");
    }
    if (!ok) return nullptr;
    return std::make_shared<ExtractNewRecordState>(std::move(o));
  }
  if (type == "ReplaceField") {
    ReplaceFieldOptions o;
    if (opt("exclude")) o.exclude = r.List(opt("exclude"), path("exclude"));
    if (opt("include")) o.include = r.List(opt("include"), path("include"));
    if (opt("renames")) o.renames = r.Pairs(opt("renames"), path("renames"));
    if (o.exclude.empty() && o.include.empty() && o.renames.empty()) {
      r.Problem(node, field, "set at least one of exclude, include, renames");
      return nullptr;
    }
    std::set<std::string> targets;
    for (const auto& [from, to] : o.renames) {
      if (!targets.insert(to).second) {
        r.Problem(opt("renames"), path("renames"),
                  fmt::format("two fields are renamed to '{}'", to));
        ok = false;
      }
    }
    if (!ok) return nullptr;
    return std::make_shared<ReplaceField>(std::move(o));
  }
  if (type == "InsertField") {
    InsertFieldOptions o;
    const auto read = [&](const char* key, std::string& out) {
      if (opt(key)) out = r.Scalar(opt(key), path(key)).value_or("");
    };
    read("static.field", o.static_field);
    read("static.value", o.static_value);
    read("topic.field", o.topic_field);
    read("timestamp.field", o.timestamp_field);
    read("offset.field", o.offset_field);
    if (opt("static.field") && !opt("static.value")) require("static.value");
    if (opt("static.value") && !opt("static.field")) require("static.field");
    if (o.static_field.empty() && o.topic_field.empty() && o.timestamp_field.empty() &&
        o.offset_field.empty() && ok) {
      r.Problem(node, field,
                "set at least one of static.field (with static.value), topic.field, "
                "timestamp.field, offset.field");
      ok = false;
    }
    if (!ok) return nullptr;
    return std::make_shared<InsertField>(std::move(o));
  }
  if (type == "Cast") {
    if (!require("spec")) return nullptr;
    CastOptions o;
    for (const auto& [name, type_name] : r.Pairs(opt("spec"), path("spec"))) {
      auto t = ParseCastType(type_name);
      if (!t) {
        r.Problem(opt("spec"), path("spec"),
                  fmt::format("'{}:{}': the type must be int8, int16, int32, int64, float32, "
                              "float64, boolean or string",
                              name, type_name));
        ok = false;
        continue;
      }
      o.spec.emplace_back(name, *t);
    }
    if (ok && o.spec.empty()) {
      r.Problem(opt("spec"), path("spec"), "expected field:type pairs");
      ok = false;
    }
    if (!ok) return nullptr;
    return std::make_shared<Cast>(std::move(o));
  }
  if (type == "ValueToKey") {
    if (!require("fields")) return nullptr;
    ValueToKeyOptions o;
    o.fields = r.List(opt("fields"), path("fields"));
    if (o.fields.empty()) {
      r.Problem(opt("fields"), path("fields"), "at least one field");
      return nullptr;
    }
    return std::make_shared<ValueToKey>(std::move(o));
  }
  if (type == "RegexRouter") {
    const bool have = require("regex") & require("replacement");
    if (!have) return nullptr;
    auto re = r.Regex(opt("regex"), path("regex"));
    auto replacement = r.Scalar(opt("replacement"), path("replacement"));
    if (replacement && replacement->empty()) {
      r.Problem(opt("replacement"), path("replacement"), "an empty topic name is not valid");
      return nullptr;
    }
    if (!re || !replacement) return nullptr;
    return std::make_shared<RegexRouter>(RegexRouterOptions{std::move(*re), *replacement});
  }
  return std::make_shared<Filter>();
}

}  // namespace

bool TransformStep::AppliesTo(const std::string& table) const {
  return tables.empty() || std::find(tables.begin(), tables.end(), table) != tables.end();
}

std::string TransformsConfig::RoutedTopic(const std::string& table,
                                          const std::string& topic) const {
  std::string routed = topic;
  for (const TransformStep& s : steps) {
    if (s.predicate || !s.AppliesTo(table)) continue;
    if (auto* router = dynamic_cast<const RegexRouter*>(s.transform.get())) {
      routed = router->Route(routed);
    }
  }
  return routed;
}

TransformsConfig ReadTransforms(const YAML::Node& parent, const std::string& path,
                                const std::string& source, const std::vector<std::string>& tables,
                                std::vector<std::string>& problems) {
  TransformsConfig cfg;
  Reader r(source, problems);
  const std::string prefix = path.empty() ? "" : path + ".";

  if (const YAML::Node t = parent["errors.tolerance"]) {
    auto v = r.Scalar(t, prefix + "errors.tolerance");
    if (v == "none") {
      cfg.tolerance = ErrorTolerance::kNone;
    } else if (v == "all") {
      cfg.tolerance = ErrorTolerance::kAll;
    } else if (v) {
      r.Problem(t, prefix + "errors.tolerance", common::MustBeOneOf({"none", "all"}, *v));
    }
  }
  if (const YAML::Node d = parent["errors.deadletterqueue.topic.name"]) {
    const std::string field = prefix + "errors.deadletterqueue.topic.name";
    cfg.dead_letter_topic = r.Scalar(d, field).value_or("");
    if (!IsTopicName(cfg.dead_letter_topic)) {
      r.Problem(d, field, "not a valid topic name (A-Z, a-z, 0-9, '.', '_', '-')");
    } else if (cfg.tolerance != ErrorTolerance::kAll) {
      r.Problem(d, field, "is only used with errors.tolerance: all");
    }
  } else if (cfg.tolerance == ErrorTolerance::kAll) {
    r.Problem(parent["errors.tolerance"], prefix + "errors.tolerance",
              "all needs errors.deadletterqueue.topic.name: a failed event is never dropped "
              "silently");
  }

  const YAML::Node list = parent["transforms"];
  if (!list) return cfg;
  if (!list.IsSequence()) {
    r.Problem(list, prefix + "transforms", "expected a list of transforms");
    return cfg;
  }
  std::set<std::string> names;
  static const std::regex name_re("[A-Za-z0-9_.-]{1,64}");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node node = list[i];
    std::string field = fmt::format("{}transforms[{}]", prefix, i);
    if (!node.IsMap()) {
      r.Problem(node, field, "expected a map with name, type and the type's options");
      continue;
    }
    TransformStep step;
    step.line = node.Mark().line + 1;
    if (!node["name"]) {
      r.Problem(node, field + ".name", "required");
    } else if (auto n = r.Scalar(node["name"], field + ".name")) {
      step.name = *n;
      if (!std::regex_match(step.name, name_re)) {
        r.Problem(node["name"], field + ".name",
                  "1-64 characters of A-Z, a-z, 0-9, '.', '_', '-' (it is a metric label)");
      } else if (!names.insert(step.name).second) {
        r.Problem(node["name"], field + ".name",
                  fmt::format("'{}' names two transforms", step.name));
      }
    }
    std::optional<std::string> type;
    if (!node["type"]) {
      r.Problem(node, field + ".type", "required");
    } else if (auto t = r.Scalar(node["type"], field + ".type")) {
      type = CanonicalType(*t);
      if (!type) {
        r.Problem(node["type"], field + ".type",
                  fmt::format("unknown transform '{}' (known: ExtractNewRecordState, "
                              "ReplaceField, InsertField, Cast, ValueToKey, RegexRouter, "
                              "Filter; the $Key variants are not supported)",
                              *t));
      }
    }
    if (!type) continue;
    step.type = *type;
    // Every problem from here on names the transform after its field:
    // "<file>:<line>: postgres.transforms[1].spec (Cast 'amounts'): why".
    const size_t first_problem = problems.size();
    std::vector<std::string> known = {"name", "type", "tables", "predicate", "negate"};
    for (const auto& k : OptionKeys(step.type)) known.push_back(k);
    for (const auto& kv : node) {
      if (!r.ScalarKey(kv.first, field)) continue;
      const std::string key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        const std::string why =
            key == "add.headers" || key == "add.headers.prefix"
                ? "not supported: the capture writes no Kafka headers (use add.fields)"
                : fmt::format("unknown field (known here: {})", fmt::join(known, ", "));
        r.Problem(kv.first, field + "." + key, why);
      }
    }
    if (node["tables"]) {
      step.tables = r.List(node["tables"], field + ".tables");
      for (std::string& t : step.tables) {
        if (t.find('.') == std::string::npos) t = "public." + t;
        if (std::find(tables.begin(), tables.end(), t) == tables.end()) {
          r.Problem(node["tables"], field + ".tables",
                    fmt::format("'{}' is not a captured table", t));
        }
      }
    }
    if (node["negate"]) step.negate = r.Bool(node["negate"], field + ".negate").value_or(false);
    if (node["predicate"]) {
      step.predicate = ReadPredicate(r, node["predicate"], field + ".predicate");
    } else if (step.type == "Filter") {
      r.Problem(node, field + ".predicate",
                "required: a Filter without a predicate would drop every event");
    } else if (node["negate"]) {
      r.Problem(node["negate"], field + ".negate", "has no effect without a predicate");
    }
    step.transform = BuildTransform(r, node, step.type, field);
    for (size_t p = first_problem; p < problems.size(); ++p) {
      std::string& msg = problems[p];
      const size_t at = msg.find(field);
      const size_t colon = at == std::string::npos ? at : msg.find(": ", at);
      if (colon != std::string::npos) {
        msg.insert(colon, fmt::format(" ({} '{}')", step.type, step.name));
      }
    }
    if (problems.size() > first_problem) continue;
    if (step.transform) cfg.steps.push_back(std::move(step));
  }
  return cfg;
}

}  // namespace rm::cdc::transforms
