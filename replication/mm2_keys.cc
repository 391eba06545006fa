#include "replication/mm2_keys.h"

#include <strings.h>

#include <regex>
#include <vector>

namespace rm::replication {
namespace {

struct Entry {
  std::regex key;
  // When set, the key is only reported when its value differs (case-insensitively) from this:
  // that value is what regionmirror does anyway.
  std::optional<std::string> harmless_value;
  std::string reason;
};

const std::vector<Entry>& Catalog() {
  static const std::vector<Entry> entries = [] {
    auto e = [](const char* re, std::optional<std::string> harmless, const char* reason) {
      return Entry{std::regex(re), std::move(harmless), reason};
    };
    const char* kConnect =
        "Kafka Connect's own internal topics (its configs, offsets and status, and their "
        "replication factors): regionmirror runs no Connect worker and creates no such topics "
        "(copy positions live in the target's records, offset maps in the offsets directory)";
    return std::vector<Entry>{
        e("tasks\\.max", {},
          "one process runs every flow with one consumer group per flow; for more throughput run "
          "more processes with the same file, they share the partitions"),
        e("offset\\.lag\\.max", {},
          "exact translation records every run of offsets, so there is no lag threshold that "
          "trades sync records against precision"),
        e("(offset|status|config)\\.storage\\..*", {}, kConnect),
        e("(.*\\.)?(key|value|header)\\.converter(\\..*)?", {},
          "records are copied as bytes (MM2 uses the ByteArrayConverter too)"),
        e("sync\\.topic\\.acls\\.enabled", std::string("false"),
          "ACLs are not copied: grant them on the target (regionmirror never changes ACLs)"),
        e("sync\\.topic\\.acls\\.interval\\.seconds", {},
          "ACLs are not copied: grant them on the target (regionmirror never changes ACLs)"),
        e("topic\\.filter\\.class",
          std::string("org.apache.kafka.connect.mirror.DefaultTopicFilter"),
          "Java filter classes cannot be loaded: use topics / topics.exclude regexes"),
        e("group\\.filter\\.class",
          std::string("org.apache.kafka.connect.mirror.DefaultGroupFilter"),
          "Java filter classes cannot be loaded: use groups / groups.exclude regexes"),
        e("config\\.property\\.filter\\.class",
          std::string("org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter"),
          "Java filter classes cannot be loaded; the topic configs left out are MM2's default "
          "list"),
        e("forwarding\\.admin\\.class",
          std::string("org.apache.kafka.clients.admin.ForwardingAdmin"),
          "Java admin classes cannot be loaded; topics are created with the target's admin API"),
        e("(consumer\\.poll\\.timeout\\.ms|admin\\.timeout\\.ms)", {},
          "Connect task timeouts; regionmirror's clients use librdkafka's own timeouts"),
        e("(metric\\.reporters|metrics\\..*|add\\.source\\.alias\\.to\\.metrics|auto\\.include\\."
          "jmx\\.reporter)",
          {}, "metrics are served in Prometheus format on the admin API's /metrics"),
        e("(dedicated\\.mode\\.enable\\.internal\\.rest|listeners|admin\\.listeners|rest\\..*)", {},
          "there is no Connect REST API: /healthz and /metrics are on the admin port "
          "(--admin_port)"),
        e("use\\.incremental\\.alter\\.configs", std::string("never"),
          "librdkafka 2.0.2 has no IncrementalAlterConfigs: remote topics' configs are kept in "
          "step with AlterConfigs, as MM2 does with `never` (the target topic keeps its own "
          "values of the configs config.properties.exclude leaves out)"),
        e("replication\\.policy\\.internal\\.topic\\.separator\\.enabled", {},
          "internal topic names are fixed: mm2-offset-syncs.<source>.internal and "
          "<source>.checkpoints.internal"),
        e("offset\\.flush\\.(interval|timeout)\\.ms", {},
          "source positions are committed after delivery, every mirror commit interval (1 s)"),
        e("(exactly\\.once\\.source\\.support|exactly\\.once\\.support|transaction\\.boundary(\\..*"
          ")?)",
          {},
          "no duplicates after a crash comes from provenance headers and resuming from the "
          "target's tail, not from Connect transactions"),
        e("refresh\\.topics\\.enabled", std::string("true"),
          "new topics and partitions are always discovered (refresh.topics.interval.seconds)"),
        e("group\\.id", {},
          "Connect worker identity; each flow's consumer group is regionmirror.<source>-><target>"),
        e("(task|worker|scheduled\\.rebalance|connect\\.protocol|heartbeat\\.interval|"
          "session\\.timeout|rebalance\\.timeout)\\..*",
          {}, "Kafka Connect worker setting: regionmirror runs no Connect worker"),
        e("(plugin\\.path|plugin\\.discovery|connector\\.client\\.config\\.override\\.policy|"
          "config\\.action\\.reload|name|connector\\.class)",
          {}, "Kafka Connect worker setting: regionmirror runs no Connect worker"),
    };
  }();
  return entries;
}

}  // namespace

std::optional<std::string> Mm2NotAppliedReason(const std::string& bare_key,
                                               const std::string& value) {
  for (const auto& entry : Catalog()) {
    if (!std::regex_match(bare_key, entry.key)) continue;
    if (entry.harmless_value && strcasecmp(value.c_str(), entry.harmless_value->c_str()) == 0) {
      return "";
    }
    return entry.reason;
  }
  return {};
}

std::optional<std::string> JavaOnlyClientSetting(const std::string& bare_key) {
  static const std::regex java_tls(
      "ssl\\.(protocol|provider|keymanager\\.algorithm|trustmanager\\.algorithm|secure\\.random\\."
      "implementation|engine\\.factory\\.class|cipher\\.suites|enabled\\.protocols)");
  if (std::regex_match(bare_key, java_tls)) {
    return "Java TLS engine setting: librdkafka uses OpenSSL and its defaults";
  }
  static const std::regex java_sasl(
      "sasl\\.(login|client)\\.callback\\.handler\\.class|sasl\\.login\\.class|sasl\\.kerberos\\..*"
      "|"
      "sasl\\.login\\.(refresh|connect|read|retry)\\..*");
  if (std::regex_match(bare_key, java_sasl)) {
    return "Java SASL login setting: librdkafka logs in with sasl.username / sasl.password";
  }
  return {};
}

}  // namespace rm::replication
