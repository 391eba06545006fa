#include "replication/mm2_clients.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <optional>
#include <tuple>

namespace rm::replication {
namespace {

enum class Role { kConsumer, kProducer, kSourceAdmin, kTargetAdmin };

// One override found in the file: which flows it applies to, in which role, how strongly.
struct Override {
  int rank = 0;  // precedence: higher wins
  std::string key;
  std::string prop;
  std::string value;
  Role role = Role::kConsumer;
  std::string flow;    // "A->B", or "" when by cluster
  std::string source;  // cluster-level: flows from this cluster ("" = any)
  std::string target;  // cluster-level: flows into this cluster ("" = any)
};

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The overrides `key` stands for (none if it is not a client-override form).
std::vector<Override> OverridesOf(const std::string& key, const std::string& value,
                                  const std::vector<ClusterConfig>& clusters,
                                  std::vector<std::string>* not_applied) {
  std::vector<Override> out;
  auto add = [&](int rank, size_t prefix_len, Role role, std::string flow, std::string source,
                 std::string target) {
    out.push_back({rank, key, key.substr(prefix_len), value, role, std::move(flow),
                   std::move(source), std::move(target)});
  };
  for (const auto& src : clusters) {
    if (!StartsWith(key, src.alias)) continue;
    const std::string rest = key.substr(src.alias.size());
    if (StartsWith(rest, "->")) {
      for (const auto& dst : clusters) {
        const std::string p = src.alias + "->" + dst.alias + ".";
        if (!StartsWith(key, p)) continue;
        const std::string flow = src.alias + "->" + dst.alias;
        const std::string r = key.substr(p.size());
        const size_t n = p.size();
        if (StartsWith(r, "consumer.")) add(0, n + 9, Role::kConsumer, flow, "", "");
        if (StartsWith(r, "source.consumer.")) add(2, n + 16, Role::kConsumer, flow, "", "");
        if (StartsWith(r, "producer.override.")) add(1, n + 18, Role::kProducer, flow, "", "");
        if (StartsWith(r, "admin.")) {
          add(0, n + 6, Role::kSourceAdmin, flow, "", "");
          add(0, n + 6, Role::kTargetAdmin, flow, "", "");
        }
        if (StartsWith(r, "source.admin.")) add(2, n + 13, Role::kSourceAdmin, flow, "", "");
        if (StartsWith(r, "target.admin.")) add(2, n + 13, Role::kTargetAdmin, flow, "", "");
        if (StartsWith(r, "producer.") && !StartsWith(r, "producer.override.")) {
          not_applied->push_back(key + " (MM2's offset-syncs producer; records are written with " +
                                 dst.alias + ".producer.* and " + flow + ".producer.override.*)");
          return {Override{-1, key}};  // consumed, listed, nothing to apply
        }
      }
    } else if (StartsWith(rest, ".consumer.")) {
      add(1, src.alias.size() + 10, Role::kConsumer, "", src.alias, "");
    } else if (StartsWith(rest, ".producer.")) {
      add(0, src.alias.size() + 10, Role::kProducer, "", "", src.alias);
    } else if (StartsWith(rest, ".admin.")) {
      add(1, src.alias.size() + 7, Role::kSourceAdmin, "", src.alias, "");
      add(1, src.alias.size() + 7, Role::kTargetAdmin, "", "", src.alias);
    }
  }
  return out;
}

// Settings the mirror sets itself for its guarantees (mirror/README.md, "Settings the guarantees
// and the speed rest on"): an override would be dropped, so it is reported instead.
std::optional<std::string> ForcedByTheMirror(Role role, const std::string& prop) {
  if (role == Role::kConsumer) {
    if (prop == "auto.offset.reset") {
      return "a flow starts after the last copy found on the target, else at the start of the "
             "source partition; a position lost to retention is reported, never skipped";
    }
    if (prop == "group.id" || prop == "enable.auto.commit" || prop == "enable.auto.offset.store") {
      return "set by regionmirror: positions are committed only after delivery, in the group "
             "regionmirror.<source>-><target>";
    }
  }
  if (role == Role::kProducer &&
      (prop == "enable.idempotence" || prop == "acks" || prop == "message.timeout.ms" ||
       prop == "enable.gapless.guarantee")) {
    return "set by regionmirror: copies are idempotent, acknowledged by all replicas and never "
           "given up";
  }
  return std::nullopt;
}

common::KafkaProperties& Slot(FlowConfig& fl, Role role) {
  switch (role) {
    case Role::kConsumer:
      return fl.consumer;
    case Role::kProducer:
      return fl.producer;
    case Role::kSourceAdmin:
      return fl.source_admin;
    case Role::kTargetAdmin:
      break;
  }
  return fl.target_admin;
}

}  // namespace

bool IsLibrdkafkaProperty(const std::string& key, const std::string& value) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[256];
  bool ok = rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK;
  rd_kafka_conf_destroy(conf);
  return ok;
}

void ApplyMm2ClientOverrides(const std::map<std::string, std::string>& props, MirrorConfig* cfg,
                             std::set<std::string>* used, std::vector<std::string>* not_applied) {
  std::vector<Override> all;
  for (const auto& [key, value] : props) {
    if (used->count(key)) continue;
    std::vector<Override> found = OverridesOf(key, value, cfg->clusters, not_applied);
    if (found.empty()) continue;
    used->insert(key);
    if (found.front().rank < 0) continue;  // listed as not applied already
    if (!IsLibrdkafkaProperty(found.front().prop, value)) {
      not_applied->push_back(key + " (not a librdkafka property, or not a valid value for it)");
      continue;
    }
    if (auto reason = ForcedByTheMirror(found.front().role, found.front().prop)) {
      not_applied->push_back(key + " (" + *reason + ")");
      continue;
    }
    all.insert(all.end(), found.begin(), found.end());
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Override& a, const Override& b) { return a.rank < b.rank; });
  std::set<std::string> applied;
  for (const auto& o : all) {
    for (auto& fl : cfg->flows) {
      const bool match = o.flow.empty() ? (o.source.empty() || o.source == fl.source) &&
                                              (o.target.empty() || o.target == fl.target)
                                        : o.flow == fl.name();
      if (!match) continue;
      Slot(fl, o.role)[o.prop] = o.value;
      applied.insert(o.key);
    }
  }
  std::set<std::string> unused;
  for (const auto& o : all) {
    if (!applied.count(o.key)) unused.insert(o.key);
  }
  for (const auto& key : unused) not_applied->push_back(key + " (no enabled flow uses it)");
}

}  // namespace rm::replication
