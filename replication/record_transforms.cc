#include "replication/record_transforms.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "common/config_reader.h"
#include "replication/provenance.h"

namespace rm::replication {

namespace {

bool Matches(const RecordPredicate& p, std::string_view topic, std::string_view remote_topic,
             bool tombstone, const std::function<bool(std::string_view)>& has_header) {
  if (p.topic && !std::regex_match(topic.begin(), topic.end(), *p.topic)) return false;
  if (p.remote_topic &&
      !std::regex_match(remote_topic.begin(), remote_topic.end(), *p.remote_topic)) {
    return false;
  }
  if (p.tombstone && *p.tombstone != tombstone) return false;
  if (!p.header.empty() && !has_header(p.header)) return false;
  return true;
}

// Connect's class names and the short ones.
std::string ShortType(const std::string& type) {
  std::string t = type;
  if (auto dot = t.rfind('.'); dot != std::string::npos) t = t.substr(dot + 1);
  return t;
}

}  // namespace

RecordTransformResult RecordTransforms::Apply(std::string_view topic, std::string_view remote_topic,
                                              bool tombstone,
                                              const HeaderLookup& has_header) const {
  RecordTransformResult r;
  // The headers as the earlier steps left them: a removed one is gone, an added one is there.
  auto present = [&](std::string_view name) {
    for (const auto& [k, v] : r.add) {
      if (k == name) return true;
    }
    if (std::find(r.remove.begin(), r.remove.end(), name) != r.remove.end()) return false;
    return has_header(name);
  };
  for (const RecordTransformStep& s : steps_) {
    if (s.predicate && Matches(*s.predicate, topic, remote_topic, tombstone, present) == s.negate) {
      continue;
    }
    switch (s.kind) {
      case RecordTransformStep::Kind::kFilter:
        r.dropped_by = s.name;
        return r;
      case RecordTransformStep::Kind::kInsertHeader:
        r.add.emplace_back(s.header, s.value);
        break;
      case RecordTransformStep::Kind::kDropHeaders:
        for (const std::string& h : s.headers) {
          std::erase_if(r.add, [&](const auto& kv) { return kv.first == h; });
          if (std::find(r.remove.begin(), r.remove.end(), h) == r.remove.end()) {
            r.remove.push_back(h);
          }
        }
        break;
    }
  }
  return r;
}

std::string DescribeRecordTransformStep(const RecordTransformStep& s) {
  std::string what;
  switch (s.kind) {
    case RecordTransformStep::Kind::kFilter:
      what = "Filter: drop the record";
      break;
    case RecordTransformStep::Kind::kInsertHeader:
      what = fmt::format("InsertHeader: add header {} = \"{}\"", s.header, s.value);
      break;
    case RecordTransformStep::Kind::kDropHeaders: {
      std::string list;
      for (const auto& h : s.headers) list += (list.empty() ? "" : ", ") + h;
      what = fmt::format("DropHeaders: remove header{} {}", s.headers.size() == 1 ? "" : "s", list);
      break;
    }
  }
  if (!s.predicate) {
    return fmt::format("{}: {}{}", s.name, what,
                       s.kind == RecordTransformStep::Kind::kFilter ? " (every record)" : "");
  }
  const RecordPredicate& p = *s.predicate;
  std::vector<std::string> conditions;
  if (!p.topic_text.empty()) {
    conditions.push_back(fmt::format("the source topic matches '{}'", p.topic_text));
  }
  if (!p.remote_topic_text.empty()) {
    conditions.push_back(fmt::format("the remote topic matches '{}'", p.remote_topic_text));
  }
  if (!p.header.empty()) conditions.push_back(fmt::format("it has a header {}", p.header));
  if (p.tombstone) conditions.push_back(*p.tombstone ? "it is a tombstone" : "it is no tombstone");
  std::string when;
  for (const auto& c : conditions) when += (when.empty() ? "" : " and ") + c;
  return fmt::format("{}: {}, {} {}", s.name, what, s.negate ? "unless" : "when", when);
}

RecordTransforms ReadRecordTransforms(const YAML::Node& node, const std::string& path,
                                      const std::string& flow_name,
                                      std::vector<std::string>& problems) {
  common::YamlFieldReader r(problems);
  std::vector<RecordTransformStep> steps;
  if (!r.IsList(node, path)) return RecordTransforms();
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node n = node[i];
    const std::string at = fmt::format("{}[{}]", path, i);
    if (!r.IsMap(n, at)) continue;
    RecordTransformStep s;
    std::string type;
    r.Get(n, at, "name", s.name);
    r.Get(n, at, "type", type);
    const std::string short_type = ShortType(type);
    // "<path>[i].<field> (<Type> '<name>') of flow <flow>: <reason>"
    auto problem = [&](const std::string& field, const std::string& why) {
      problems.push_back(
          fmt::format("{}{} ({} '{}') of flow {}: {}", at, field.empty() ? "" : "." + field,
                      short_type.empty() ? "?" : short_type, s.name, flow_name, why));
    };
    if (s.name.empty()) {
      problem("name", "required (names the transform in errors, logs and metrics)");
    } else if (!names.insert(s.name).second) {
      problem("name", "used by an earlier transform of this flow");
    }
    if (short_type == "Filter") {
      s.kind = RecordTransformStep::Kind::kFilter;
      r.CheckKeys(n, at, {"name", "type", "predicate", "negate"});
    } else if (short_type == "InsertHeader") {
      s.kind = RecordTransformStep::Kind::kInsertHeader;
      r.CheckKeys(n, at, {"name", "type", "predicate", "negate", "header", "value.literal"});
      r.Get(n, at, "header", s.header);
      r.Get(n, at, "value.literal", s.value);
      if (s.header.empty()) problem("header", "required");
      if (!n["value.literal"]) problem("value.literal", "required");
    } else if (short_type == "DropHeaders") {
      s.kind = RecordTransformStep::Kind::kDropHeaders;
      r.CheckKeys(n, at, {"name", "type", "predicate", "negate", "headers"});
      if (n["headers"] && n["headers"].IsScalar()) {
        // Connect's comma-separated list.
        std::string list = n["headers"].as<std::string>();
        size_t start = 0;
        while (start <= list.size()) {
          size_t comma = list.find(',', start);
          std::string h = list.substr(start, comma == std::string::npos ? comma : comma - start);
          h.erase(0, h.find_first_not_of(' '));
          h.erase(h.find_last_not_of(' ') + 1);
          if (!h.empty()) s.headers.push_back(h);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      } else {
        r.GetStringList(n, at, "headers", s.headers);
      }
      if (s.headers.empty()) problem("headers", "required: the header names to drop");
    } else if (short_type.empty()) {
      problem("type", "required (Filter, InsertHeader or DropHeaders)");
      continue;
    } else if (short_type == "RegexRouter") {
      problem("type",
              "not available on a mirror flow: remote topic names come from the flow's "
              "replication policy, which offset translation, group failover and the cycle guard "
              "rely on; set replication_policy (default or identity) and separator instead");
      continue;
    } else if (short_type == "ExtractNewRecordState" || short_type.rfind("ReplaceField", 0) == 0 ||
               short_type.rfind("InsertField", 0) == 0 || short_type.rfind("Cast", 0) == 0 ||
               short_type.rfind("ValueToKey", 0) == 0 || short_type.rfind("Flatten", 0) == 0 ||
               short_type.rfind("ExtractField", 0) == 0 || short_type.rfind("MaskField", 0) == 0 ||
               short_type.rfind("HoistField", 0) == 0 ||
               short_type.rfind("TimestampConverter", 0) == 0) {
      problem("type",
              "not available on a mirror flow: it reshapes the record's value, and a flow copies "
              "keys and values as opaque bytes without decoding them (Filter, InsertHeader and "
              "DropHeaders are; reshape values in the capture's transforms instead)");
      continue;
    } else {
      problem("type",
              fmt::format("unknown transform '{}' (a mirror flow has Filter, InsertHeader and "
                          "DropHeaders)",
                          type));
      continue;
    }
    // The provenance header is what the cycle guard and the resume position read.
    auto touches_provenance = [](const std::string& h) { return h == kProvenanceHeader; };
    if (touches_provenance(s.header) ||
        std::any_of(s.headers.begin(), s.headers.end(), touches_provenance)) {
      problem(s.kind == RecordTransformStep::Kind::kInsertHeader ? "header" : "headers",
              fmt::format("'{}' is the mirror's provenance header (the cycle guard and resume "
                          "read it): it cannot be added or dropped",
                          kProvenanceHeader));
    }
    r.Get(n, at, "negate", s.negate);
    if (const YAML::Node p = n["predicate"]; p) {
      const std::string pat = at + ".predicate";
      if (!p.IsMap()) {
        problem("predicate", "expected a map (topic, header, tombstone)");
      } else {
        RecordPredicate pred;
        for (const auto& kv : p) {
          if (!r.IsScalarKey(kv.first, pat)) continue;
          const std::string key = kv.first.as<std::string>();
          if (key != "topic" && key != "remote_topic" && key != "header" && key != "tombstone") {
            problem("predicate." + key,
                    key == "op" || key == "field"
                        ? "not available on a mirror flow: it needs the value decoded (topic, "
                          "remote_topic, header and tombstone are)"
                        : "unknown condition (topic, remote_topic, header, tombstone)");
          }
        }
        r.Get(p, pat, "topic", pred.topic_text);
        r.Get(p, pat, "remote_topic", pred.remote_topic_text);
        r.Get(p, pat, "header", pred.header);
        bool tombstone = false;
        if (p["tombstone"]) {
          r.Get(p, pat, "tombstone", tombstone);
          pred.tombstone = tombstone;
        }
        for (auto [field, text, re] :
             {std::tuple{"topic", &pred.topic_text, &pred.topic},
              std::tuple{"remote_topic", &pred.remote_topic_text, &pred.remote_topic}}) {
          if (text->empty()) continue;
          try {
            *re = std::regex(*text);
          } catch (const std::regex_error& e) {
            problem(std::string("predicate.") + field,
                    fmt::format("bad regex '{}': {}", *text, e.what()));
          }
        }
        if (pred.topic_text.empty() && pred.remote_topic_text.empty() && pred.header.empty() &&
            !pred.tombstone) {
          problem("predicate", "needs at least one of topic, remote_topic, header, tombstone");
        }
        s.predicate = std::move(pred);
      }
    } else if (s.kind == RecordTransformStep::Kind::kFilter) {
      problem("predicate", "required: a Filter without one would drop every record");
    }
    steps.push_back(std::move(s));
  }
  return RecordTransforms(std::move(steps));
}

}  // namespace rm::replication
