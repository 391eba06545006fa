#include "src-cdc/postgres/kafka_topics.h"

#include <fmt/format.h>

#include "common/kafka_admin.h"

namespace rm::cdc::postgres {

KafkaTopicProvisioner::KafkaTopicProvisioner(common::KafkaProperties props, int partitions,
                                             int replication_factor,
                                             std::chrono::milliseconds timeout)
    : props_(std::move(props)),
      partitions_(partitions),
      replication_factor_(replication_factor),
      timeout_(timeout) {}

StepReport KafkaTopicProvisioner::EnsureTopics(const std::vector<std::string>& topics,
                                               bool dry_run) {
  StepReport r{"topics", StepOutcome::kDone, ""};
  if (dry_run) {
    r.outcome = StepOutcome::kWouldDo;
    r.detail =
        fmt::format("create if missing ({} partitions): {}", partitions_, fmt::join(topics, ", "));
    return r;
  }
  try {
    common::AdminClient admin(props_, "cdc provision");
    std::vector<common::NewTopic> wanted;
    for (const auto& t : topics) wanted.push_back({t, partitions_, replication_factor_, {}});
    auto res = admin.CreateTopics(wanted, timeout_);
    if (!res.ok()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = res.error().message;
      return r;
    }
    std::vector<std::string> created, existing, failed;
    for (size_t i = 0; i < topics.size() && i < res->size(); ++i) {
      const auto& st = (*res)[i];
      if (st.ok()) {
        created.push_back(topics[i]);
      } else if (st.error().code == "TOPIC_ALREADY_EXISTS") {
        existing.push_back(topics[i]);
      } else {
        failed.push_back(topics[i] + " (" + st.error().message + ")");
      }
    }
    if (!failed.empty()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("cannot create {}", fmt::join(failed, ", "));
    } else if (created.empty()) {
      r.outcome = StepOutcome::kAlreadyDone;
      r.detail = fmt::format("exist: {}", fmt::join(existing, ", "));
    } else {
      r.detail = fmt::format("created: {}", fmt::join(created, ", "));
    }
  } catch (const std::exception& e) {
    r.outcome = StepOutcome::kFailed;
    r.detail = e.what();
  }
  return r;
}

}  // namespace rm::cdc::postgres
