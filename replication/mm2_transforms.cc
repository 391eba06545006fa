#include "replication/mm2_transforms.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

#include "replication/config.h"
#include "replication/provenance.h"

namespace rm::replication {
namespace {

using NotApplied = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kTransformsPackage = "org.apache.kafka.connect.transforms.";
constexpr const char* kPredicatesPackage = "org.apache.kafka.connect.transforms.predicates.";
constexpr const char* kMapped =
    "Filter (with the predicates TopicNameMatches, HasHeaderKey, RecordIsTombstone), InsertHeader "
    "and DropHeaders apply to a mirror flow";

// Connect's LIST values: comma-separated, whitespace around items dropped, empty items skipped.
std::vector<std::string> SplitConnectList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    const size_t b = item.find_first_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
    start = comma + 1;
  }
  return out;
}

// The bundled class `type` names (fully qualified in `package`, or by the simple name Connect
// also accepts for its own plugins); "" for any other class.
std::string BundledName(const std::string& type, const std::string& package) {
  if (type.rfind(package, 0) == 0) {
    std::string rest = type.substr(package.size());
    return rest.find('.') == std::string::npos ? rest : "";
  }
  return type.find('.') == std::string::npos ? type : "";
}

// Why Connect would not read `literal` as the text itself (Values.parseString): the header's
// bytes would then be the header converter's rendering of a parsed value; nullopt when it reads
// it as that text, or as a boolean or whole number whose canonical text is the literal.
std::optional<std::string> LiteralNotText(const std::string& literal) {
  if (literal == "null") {
    return "Connect reads 'null' as a header with no value, and this InsertHeader writes text";
  }
  if (literal.empty() || literal == "true" || literal == "false") return std::nullopt;
  const char first = literal.front();
  if (first == '[' || first == '{') {
    return "Connect reads a literal that starts with '[' or '{' as an array or map where it can, "
           "and the header then holds the header converter's rendering of it, not this text";
  }
  if (std::isdigit(static_cast<unsigned char>(first)) || first == '+' || first == '-') {
    static const std::regex canonical_integer("-?[1-9][0-9]{0,17}|0");
    if (std::regex_match(literal, canonical_integer)) return std::nullopt;
    return "Connect reads a literal that starts with a digit, '+' or '-' as a number, date or "
           "time where it can (1.50 becomes 1.5, 007 becomes 7), and the header then holds the "
           "header converter's rendering of it, not this text; whole numbers in canonical form "
           "and text are accepted";
  }
  return std::nullopt;
}

// Why transform class `type` cannot run on a mirror flow.
std::string RefusedTransform(const std::string& type) {
  static const std::regex routers("(RegexRouter|TimestampRouter)");
  static const std::regex data_transforms(
      "(Cast|ExtractField|Flatten|HeaderFrom|HoistField|InsertField|MaskField|ReplaceField|"
      "SetSchemaMetadata|TimestampConverter|ValueToKey|ExtractNewRecordState)(\\$(Key|Value))?");
  const std::string bundled = BundledName(type, kTransformsPackage);
  if (std::regex_match(bundled, routers)) {
    return fmt::format(
        "{} renames the record's topic, and on a mirror flow remote topic names come from the "
        "replication policy (replication.policy.class, replication.policy.separator), which "
        "offset translation, checkpoints, group failover and the cycle guard rely on",
        type);
  }
  if (std::regex_match(bundled, data_transforms) ||
      std::regex_match(type, std::regex("io\\.debezium\\.transforms\\.ExtractNewRecordState"))) {
    return fmt::format(
        "{} reads or rewrites the record's key or value, and regionmirror copies keys and values "
        "as bytes without ever decoding them (MM2 hands them to transforms as raw bytes too); {}",
        type, kMapped);
  }
  return fmt::format(
      "{} is not a transform regionmirror can run: Java classes are not loaded, and a flow never "
      "decodes keys or values; {}",
      type, kMapped);
}

// Reads the chain of one flow ("A->B") from the keys MM2 would hand its connectors.
class FlowTransformsReader {
 public:
  FlowTransformsReader(const std::map<std::string, std::string>& props, std::string flow,
                       std::set<std::string>* used, std::vector<std::string>* problems,
                       NotApplied* not_applied)
      : props_(props),
        flow_(std::move(flow)),
        used_(used),
        problems_(problems),
        not_applied_(not_applied) {}

  RecordTransforms Read() {
    const std::vector<std::string> predicates = List("predicates", &predicates_key_);
    for (const std::string& alias : predicates) ReadPredicate(alias);
    ExplainUnlisted("predicates", predicates, predicates_key_);
    const std::vector<std::string> aliases = List("transforms", &transforms_key_);
    std::vector<RecordTransformStep> steps;
    for (const std::string& alias : aliases) {
      if (auto step = ReadTransform(alias)) steps.push_back(std::move(*step));
    }
    ExplainUnlisted("transforms", aliases, transforms_key_);
    return RecordTransforms(std::move(steps));
  }

  // The key the transforms list came from ("A->B.transforms" or "transforms"); "" when none.
  const std::string& transforms_key() const { return transforms_key_; }

 private:
  const std::string* Get(const std::string& key) {
    auto it = props_.find(key);
    if (it == props_.end()) return nullptr;
    used_->insert(key);
    return &it->second;
  }
  void Problem(const std::string& key, const std::string& why) {
    problems_->push_back(fmt::format("{}: {}", key, why));
  }

  // A list, from the flow's key or else the top-level one (Connect ignores repeated aliases).
  std::vector<std::string> List(const std::string& name, std::string* from) {
    for (const std::string& key : {flow_ + "." + name, name}) {
      if (const std::string* v = Get(key)) {
        *from = key;
        std::vector<std::string> out;
        for (auto& a : SplitConnectList(*v)) {
          if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
        }
        return out;
      }
    }
    return {};
  }

  // The settings under `prefix` not in `known`: Connect ignores them; so do we, saying so.
  void ExplainOthers(const std::string& prefix, const std::vector<std::string>& known,
                     const std::string& type) {
    for (auto it = props_.lower_bound(prefix); it != props_.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) break;
      const std::string setting = it->first.substr(prefix.size());
      if (std::find(known.begin(), known.end(), setting) != known.end()) continue;
      used_->insert(it->first);
      not_applied_->emplace_back(it->first,
                                 fmt::format("not a setting of {} (Connect ignores it too)", type));
    }
  }

  // Settings of aliases the list does not name: Connect configures listed aliases only.
  void ExplainUnlisted(const std::string& kind, const std::vector<std::string>& listed,
                       const std::string& list_key) {
    const std::string prefix = flow_ + "." + kind + ".";
    for (auto it = props_.lower_bound(prefix); it != props_.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) break;
      if (used_->count(it->first)) continue;
      const std::string rest = it->first.substr(prefix.size());
      const std::string alias = rest.substr(0, rest.find('.'));
      if (std::find(listed.begin(), listed.end(), alias) != listed.end()) continue;
      used_->insert(it->first);
      not_applied_->emplace_back(
          it->first,
          list_key.empty()
              ? fmt::format("no {} list names its alias, so Connect does not read it", kind)
              : fmt::format("{} does not list its alias, so Connect does not read it", list_key));
    }
  }

  void ReadPredicate(const std::string& alias) {
    const std::string prefix = flow_ + ".predicates." + alias + ".";
    std::optional<RecordPredicate>& slot = predicates_[alias];
    const std::string* type = Get(prefix + "type");
    if (!type || type->empty()) {
      Problem(prefix + "type",
              fmt::format("required: {} lists predicate '{}' (MirrorMaker 2 reads a predicate's "
                          "settings with the flow prefix only)",
                          predicates_key_, alias));
      MarkUsed(prefix);
      return;
    }
    const std::string name = BundledName(*type, kPredicatesPackage);
    RecordPredicate pred;
    bool ok = true;
    if (name == "TopicNameMatches") {
      const std::string* pattern = Get(prefix + "pattern");
      if (!pattern || pattern->empty()) {
        Problem(prefix + "pattern", "required: the regex of the topic names it matches");
        ok = false;
      } else {
        try {
          pred.remote_topic = std::regex(*pattern);
          pred.remote_topic_text = *pattern;
        } catch (const std::regex_error& e) {
          Problem(prefix + "pattern", fmt::format("bad regex '{}': {}", *pattern, e.what()));
          ok = false;
        }
      }
      ExplainOthers(prefix, {"type", "pattern"}, name);
    } else if (name == "HasHeaderKey") {
      const std::string* header = Get(prefix + "name");
      if (!header || header->empty()) {
        Problem(prefix + "name", "required: the header name it looks for");
        ok = false;
      } else {
        pred.header = *header;
      }
      ExplainOthers(prefix, {"type", "name"}, name);
    } else if (name == "RecordIsTombstone") {
      pred.tombstone = true;
      ExplainOthers(prefix, {"type"}, name);
    } else {
      Problem(prefix + "type",
              fmt::format("{} is not a predicate regionmirror can evaluate: Java classes are not "
                          "loaded, and a flow never decodes keys or values (TopicNameMatches, "
                          "HasHeaderKey and RecordIsTombstone are evaluated)",
                          *type));
      MarkUsed(prefix);
      return;
    }
    if (ok) slot = std::move(pred);
  }

  // Marks every key under `prefix` read, without a word: they belong to a refused or undefined
  // alias, whose problem is reported.
  void MarkUsed(const std::string& prefix) {
    for (auto it = props_.lower_bound(prefix); it != props_.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) break;
      used_->insert(it->first);
    }
  }

  std::optional<RecordTransformStep> ReadTransform(const std::string& alias) {
    const std::string prefix = flow_ + ".transforms." + alias + ".";
    const std::string* type = Get(prefix + "type");
    if (!type || type->empty()) {
      Problem(prefix + "type",
              fmt::format("required: {} lists transform '{}' (MirrorMaker 2 reads a transform's "
                          "settings with the flow prefix only; a top-level transforms.{}.type "
                          "does not reach it)",
                          transforms_key_, alias, alias));
      MarkUsed(prefix);
      return std::nullopt;
    }
    RecordTransformStep step;
    step.name = alias;
    const std::string name = BundledName(*type, kTransformsPackage);
    std::vector<std::string> settings = {"type", "predicate", "negate"};
    bool ok = true;
    if (name == "Filter") {
      step.kind = RecordTransformStep::Kind::kFilter;
    } else if (name == "InsertHeader") {
      step.kind = RecordTransformStep::Kind::kInsertHeader;
      settings.insert(settings.end(), {"header", "value.literal"});
      const std::string* header = Get(prefix + "header");
      const std::string* literal = Get(prefix + "value.literal");
      if (!header || header->empty()) {
        Problem(prefix + "header", "required: the name of the header to add");
        ok = false;
      } else {
        step.header = *header;
      }
      if (!literal) {
        Problem(prefix + "value.literal",
                "required here: without it Connect adds a header with no value, and this "
                "InsertHeader writes text");
        ok = false;
      } else if (auto why = LiteralNotText(*literal)) {
        Problem(prefix + "value.literal", fmt::format("'{}': {}", *literal, *why));
        ok = false;
      } else {
        step.value = *literal;
      }
    } else if (name == "DropHeaders") {
      step.kind = RecordTransformStep::Kind::kDropHeaders;
      settings.push_back("headers");
      if (const std::string* headers = Get(prefix + "headers")) {
        step.headers = SplitConnectList(*headers);
      }
      if (step.headers.empty()) {
        Problem(prefix + "headers", "required: the names of the headers to drop");
        ok = false;
      }
    } else {
      Problem(prefix + "type", RefusedTransform(*type));
      MarkUsed(prefix);
      return std::nullopt;
    }
    if (step.header == kProvenanceHeader || std::find(step.headers.begin(), step.headers.end(),
                                                      kProvenanceHeader) != step.headers.end()) {
      Problem(
          prefix + (step.kind == RecordTransformStep::Kind::kInsertHeader ? "header" : "headers"),
          fmt::format("'{}' is regionmirror's provenance header (the cycle guard and the resume "
                      "position read it): it cannot be added or dropped",
                      kProvenanceHeader));
      ok = false;
    }
    const std::string* predicate = Get(prefix + "predicate");
    if (predicate && !predicate->empty()) {
      auto it = predicates_.find(*predicate);
      if (it == predicates_.end()) {
        Problem(prefix + "predicate",
                fmt::format("'{}' is not a predicate of this flow ({} lists {})", *predicate,
                            predicates_key_.empty() ? "predicates" : predicates_key_,
                            predicates_.empty() ? "none" : ListedPredicates()));
        ok = false;
      } else if (!it->second) {
        ok = false;  // the predicate's own problem is reported
      } else {
        step.predicate = *it->second;
      }
    }
    if (const std::string* negate = Get(prefix + "negate")) {
      if (!predicate || predicate->empty()) {
        Problem(prefix + "negate",
                fmt::format("given without {}predicate, which it would negate (Connect refuses "
                            "this too)",
                            prefix));
        ok = false;
      } else if (strcasecmp(negate->c_str(), "true") == 0) {
        step.negate = true;
      } else if (strcasecmp(negate->c_str(), "false") != 0) {
        Problem(prefix + "negate", fmt::format("'{}' is not true or false", *negate));
        ok = false;
      }
    }
    if (step.kind == RecordTransformStep::Kind::kFilter && (!predicate || predicate->empty())) {
      Problem(prefix + "predicate",
              "required here: a Filter without a predicate drops every record of the flow (set "
              "the flow's enabled = false instead)");
      ok = false;
    }
    ExplainOthers(prefix, settings, name);
    if (!ok) return std::nullopt;
    return step;
  }

  std::string ListedPredicates() const {
    std::string out;
    for (const auto& [alias, pred] : predicates_) out += (out.empty() ? "" : ", ") + alias;
    return out;
  }

  const std::map<std::string, std::string>& props_;
  const std::string flow_;
  std::set<std::string>* used_;
  std::vector<std::string>* problems_;
  NotApplied* not_applied_;
  std::string transforms_key_;
  std::string predicates_key_;
  // Every listed predicate; nullopt for one that is refused (its problem is reported).
  std::map<std::string, std::optional<RecordPredicate>> predicates_;
};

// What the chain does to the records MM2's heartbeat or checkpoint connector writes (`noun`):
// topic `topic` on `target`, no headers, a value. Only a drop or an added header changes such a
// record: "drop its heartbeats (heartbeats on B; Filter 'f')", "add header origin to its
// checkpoints (A.checkpoints.internal on B)"; "" when the chain leaves them as they are.
std::string EffectOnInternalRecords(const RecordTransforms& transforms, const std::string& noun,
                                    const std::string& topic, const std::string& target) {
  const RecordTransformResult r =
      transforms.Apply(topic, topic, /*tombstone=*/false, [](std::string_view) { return false; });
  if (r.dropped_by) {
    return fmt::format("drop its {} ({} on {}; Filter '{}')", noun, topic, target, *r.dropped_by);
  }
  if (r.add.empty()) return "";
  std::string headers;
  for (const auto& [header, value] : r.add) headers += (headers.empty() ? "" : ", ") + header;
  return fmt::format("add header{} {} to its {} ({} on {})", r.add.size() == 1 ? "" : "s", headers,
                     noun, topic, target);
}

}  // namespace

RecordTransforms ReadMm2FlowTransforms(const std::map<std::string, std::string>& props,
                                       const std::string& source, const std::string& target,
                                       bool enabled, bool heartbeats, bool checkpoints,
                                       std::set<std::string>* used,
                                       std::vector<std::string>* problems,
                                       NotApplied* not_applied) {
  const std::string flow = source + "->" + target;
  if (!enabled && !heartbeats) {
    for (const std::string& prefix : {flow + ".transforms", flow + ".predicates"}) {
      for (auto it = props.lower_bound(prefix); it != props.end(); ++it) {
        if (it->first.rfind(prefix, 0) != 0) break;
        if (!used->insert(it->first).second) continue;
        not_applied->emplace_back(
            it->first, fmt::format("MirrorMaker 2 runs nothing for {} (neither the flow nor its "
                                   "heartbeats are enabled)",
                                   flow));
      }
    }
    return RecordTransforms();
  }
  FlowTransformsReader reader(props, flow, used, problems, not_applied);
  RecordTransforms transforms = reader.Read();
  if (transforms.empty()) return transforms;
  std::string effects;
  auto add = [&effects](const std::string& effect) {
    if (!effect.empty()) effects += (effects.empty() ? "" : ", and ") + effect;
  };
  if (heartbeats) add(EffectOnInternalRecords(transforms, "heartbeats", kHeartbeatsTopic, target));
  if (checkpoints) {
    add(EffectOnInternalRecords(transforms, "checkpoints", source + ".checkpoints.internal",
                                target));
  }
  if (!effects.empty()) {
    not_applied->emplace_back(
        reader.transforms_key(),
        fmt::format("applied to the records flow {}->{} copies; MirrorMaker 2 also runs the chain "
                    "on the records its heartbeat and checkpoint connectors write, where it would "
                    "{}; regionmirror writes those unchanged",
                    source, target, effects));
  }
  return transforms;
}

void ExplainTopLevelMm2TransformKeys(const std::map<std::string, std::string>& props,
                                     std::set<std::string>* used, NotApplied* not_applied) {
  for (const char* kind : {"transforms", "predicates"}) {
    const std::string prefix = std::string(kind) + ".";
    if (props.count(kind) && used->insert(kind).second) {
      not_applied->emplace_back(kind, "no flow reads it (each sets its own A->B list)");
    }
    for (auto it = props.lower_bound(prefix); it != props.end(); ++it) {
      if (it->first.rfind(prefix, 0) != 0) break;
      if (!used->insert(it->first).second) continue;
      not_applied->emplace_back(
          it->first, fmt::format("MirrorMaker 2 passes only the {0} list from the top level to its "
                                 "connectors, not the settings of each alias: write them per flow "
                                 "(A->B.{1}), as MM2 needs",
                                 kind, it->first));
    }
  }
}

}  // namespace rm::replication
