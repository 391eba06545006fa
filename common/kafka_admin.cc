#include "common/kafka_admin.h"

#include <fmt/format.h>

#include <memory>

// LeakSanitizer comes with AddressSanitizer: gcc says so with __SANITIZE_ADDRESS__, clang (the
// fuzz build) with __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define RM_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RM_HAS_LSAN 1
#endif
#endif
#if RM_HAS_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace rm::common {
namespace {

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter>;

// Allocations this thread makes while one lives are not reported by LeakSanitizer (a no-op in
// builds without it). Only for leaks inside a library that no suppression can tell apart.
class LeakCheckPause {
 public:
  LeakCheckPause() {
#if RM_HAS_LSAN
    __lsan_disable();
#endif
  }
  ~LeakCheckPause() {
#if RM_HAS_LSAN
    __lsan_enable();
#endif
  }
  LeakCheckPause(const LeakCheckPause&) = delete;
  LeakCheckPause& operator=(const LeakCheckPause&) = delete;
};

OptionsPtr MakeOptions(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  OptionsPtr o(rd_kafka_AdminOptions_new(rk, op));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(o.get(), static_cast<int>(timeout.count()), errstr,
                                            sizeof(errstr));
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
    rd_kafka_AdminOptions_set_operation_timeout(o.get(), static_cast<int>(timeout.count()), errstr,
                                                sizeof(errstr));
  }
  return o;
}

}  // namespace

AdminClient::AdminClient(const KafkaProperties& props, std::string_view context)
    : KafkaClient(context) {
  // librdkafka 2.0.2 (Debian 12's) keeps one reference too many on a handle's internal op queue
  // once rd_kafka_ListConsumerGroups ran on it (ListGroups), so rd_kafka_destroy frees all but
  // that queue: 176 bytes per handle, however many calls (reproduced with the public C API alone,
  // everything destroyed). Bounded, so harmless, but LeakSanitizer would fail every sanitized
  // mirror with offsets, and no suppression can single it out: librdkafka has no frame pointers,
  // so the report's stack ends inside the library. So the allocations rd_kafka_new makes on this
  // thread are not leak-checked; what the handle allocates later (results, events) still is.
  LeakCheckPause pause;
  rk_ = CreateKafkaHandle(RD_KAFKA_PRODUCER, BuildKafkaConf(props, context), context);
}

Result<rd_kafka_event_t*> AdminClient::WaitResult(rd_kafka_queue_t* queue,
                                                  rd_kafka_event_type_t type,
                                                  std::chrono::milliseconds timeout,
                                                  std::string_view what) {
  // The request timeout is set on the options too; this outer wait adds a margin.
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 2000);
  if (ev == nullptr) {
    return Error{"TIMED_OUT",
                 fmt::format("{}: {}: no answer within {} ms", context_, what, timeout.count())};
  }
  if (rd_kafka_event_type(ev) != type || rd_kafka_event_error(ev)) {
    Error e{rd_kafka_err2name(rd_kafka_event_error(ev)),
            fmt::format("{}: {}: {}", context_, what,
                        rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev)
                                                        : "unexpected event")};
    rd_kafka_event_destroy(ev);
    return e;
  }
  return ev;
}

Result<std::vector<Status>> AdminClient::CreateTopics(const std::vector<NewTopic>& topics,
                                                      std::chrono::milliseconds timeout) {
  std::vector<rd_kafka_NewTopic_t*> nts;
  char errstr[512];
  auto cleanup = [&nts] {
    for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
  };
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                    t.replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) {
      cleanup();
      return Error{"INVALID_ARG", fmt::format("{}: topic '{}': {}", context_, t.name, errstr)};
    }
    for (const auto& [k, v] : t.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    nts.push_back(nt);
  }
  QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  OptionsPtr opts = MakeOptions(rk_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
  rd_kafka_CreateTopics(rk_.get(), nts.data(), nts.size(), opts.get(), queue.get());
  cleanup();
  auto ev = WaitResult(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout, "create topics");
  if (!ev.ok()) return ev.error();
  EventPtr owned(*ev);
  size_t cnt = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(*ev), &cnt);
  std::vector<Status> out(topics.size());
  for (size_t i = 0; i < cnt; ++i) {
    std::string name = rd_kafka_topic_result_name(results[i]);
    for (size_t j = 0; j < topics.size(); ++j) {
      if (topics[j].name != name) continue;
      if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i])) {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        out[j] = Error{rd_kafka_err2name(err), fmt::format("create topic '{}': {}", name,
                                                           msg ? msg : rd_kafka_err2str(err))};
      }
    }
  }
  return out;
}

Status AdminClient::CreatePartitions(const std::string& topic, int total,
                                     std::chrono::milliseconds timeout) {
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr));
  if (np == nullptr) return Error{"INVALID_ARG", errstr};
  QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  OptionsPtr opts = MakeOptions(rk_.get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout);
  rd_kafka_CreatePartitions(rk_.get(), &np, 1, opts.get(), queue.get());
  rd_kafka_NewPartitions_destroy(np);
  auto ev = WaitResult(queue.get(), RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, timeout,
                       fmt::format("create partitions of '{}'", topic));
  if (!ev.ok()) return ev.error();
  EventPtr owned(*ev);
  size_t cnt = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(*ev), &cnt);
  for (size_t i = 0; i < cnt; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i])) {
      return KafkaError(err, fmt::format("create partitions of '{}'", topic));
    }
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> AdminClient::DescribeTopicConfigs(
    const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  OptionsPtr opts = MakeOptions(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  rd_kafka_DescribeConfigs(rk_.get(), &res, 1, opts.get(), queue.get());
  rd_kafka_ConfigResource_destroy(res);
  auto ev = WaitResult(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout,
                       fmt::format("describe configs of '{}'", topic));
  if (!ev.ok()) return ev.error();
  EventPtr owned(*ev);
  size_t cnt = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(*ev), &cnt);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < cnt; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rs[i])) {
      return KafkaError(err, fmt::format("describe configs of '{}'", topic));
    }
    size_t n = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &n);
    for (size_t j = 0; j < n; ++j) {
      // Only the topic's own settings: a value the source topic inherits from its broker's
      // server.properties says nothing about the data, and the target's brokers have their own.
      if (rd_kafka_ConfigEntry_source(entries[j]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
          rd_kafka_ConfigEntry_is_read_only(entries[j]) ||
          rd_kafka_ConfigEntry_is_sensitive(entries[j]) ||
          !rd_kafka_ConfigEntry_value(entries[j])) {
        continue;
      }
      out[rd_kafka_ConfigEntry_name(entries[j])] = rd_kafka_ConfigEntry_value(entries[j]);
    }
  }
  return out;
}

Status AdminClient::ReplaceTopicConfigs(const std::string& topic,
                                        const std::map<std::string, std::string>& configs,
                                        std::chrono::milliseconds timeout) {
  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  for (const auto& [k, v] : configs) {
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str())) {
      rd_kafka_ConfigResource_destroy(res);
      return KafkaError(err, fmt::format("alter configs of '{}': {}", topic, k));
    }
  }
  QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  OptionsPtr opts = MakeOptions(rk_.get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout);
  rd_kafka_AlterConfigs(rk_.get(), &res, 1, opts.get(), queue.get());
  rd_kafka_ConfigResource_destroy(res);
  auto ev = WaitResult(queue.get(), RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, timeout,
                       fmt::format("alter configs of '{}'", topic));
  if (!ev.ok()) return ev.error();
  EventPtr owned(*ev);
  size_t cnt = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(*ev), &cnt);
  for (size_t i = 0; i < cnt; ++i) {
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rs[i])) {
      return KafkaError(err, fmt::format("alter configs of '{}'", topic));
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> AdminClient::ListGroups(std::chrono::milliseconds timeout) {
  QueuePtr queue(rd_kafka_queue_new(rk_.get()));
  OptionsPtr opts = MakeOptions(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout);
  rd_kafka_ListConsumerGroups(rk_.get(), opts.get(), queue.get());
  auto ev = WaitResult(queue.get(), RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, timeout,
                       "list consumer groups");
  if (!ev.ok()) return ev.error();
  EventPtr owned(*ev);
  const rd_kafka_ListConsumerGroups_result_t* result =
      rd_kafka_event_ListConsumerGroups_result(*ev);
  size_t nerr = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &nerr);
  if (nerr > 0) {
    return Error{
        rd_kafka_err2name(rd_kafka_error_code(errors[0])),
        fmt::format("{}: list consumer groups: {}", context_, rd_kafka_error_string(errors[0]))};
  }
  size_t cnt = 0;
  const rd_kafka_ConsumerGroupListing_t** groups =
      rd_kafka_ListConsumerGroups_result_valid(result, &cnt);
  std::vector<std::string> out;
  for (size_t i = 0; i < cnt; ++i) {
    out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
  }
  return out;
}

}  // namespace rm::common
