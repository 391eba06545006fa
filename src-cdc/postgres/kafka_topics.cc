#include "src-cdc/postgres/kafka_topics.h"

#include <fmt/format.h>

#include "common/kafka_admin.h"

namespace rm::cdc::postgres {

KafkaTopicProvisioner::KafkaTopicProvisioner(common::KafkaProperties props, int partitions,
                                             int replication_factor,
                                             std::chrono::milliseconds timeout, bool create_missing)
    : props_(std::move(props)),
      partitions_(partitions),
      replication_factor_(replication_factor),
      timeout_(timeout),
      create_missing_(create_missing) {}

StepReport KafkaTopicProvisioner::EnsureTopics(const std::vector<std::string>& topics,
                                               bool dry_run) {
  StepReport r{"topics", StepOutcome::kDone, ""};
  try {
    common::AdminClient admin(props_, "cdc provision");
    // Topics that exist are left alone, whatever their partition count: CreateTopics is only
    // sent for missing ones, so a cluster whose topics are managed by someone else (or that
    // does not serve CreateTopics) provisions fine. The whole-cluster listing does not
    // auto-create topics, as a metadata request naming them may.
    auto md = admin.Metadata(std::nullopt, timeout_);
    if (!md.ok()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("cannot list the cluster's topics: {}", md.error().message);
      return r;
    }
    std::vector<std::string> existing, missing;
    for (const auto& t : topics) {
      const common::TopicMetadata* tm = md->Find(t);
      bool exists = tm != nullptr && tm->error == RD_KAFKA_RESP_ERR_NO_ERROR;
      (exists ? existing : missing).push_back(t);
    }
    if (missing.empty()) {
      r.outcome = StepOutcome::kAlreadyDone;
      r.detail = fmt::format("exist: {}", fmt::join(existing, ", "));
      return r;
    }
    if (!create_missing_) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("missing (kafka.create_topics is false, create them first): {}",
                             fmt::join(missing, ", "));
      return r;
    }
    if (dry_run) {
      r.outcome = StepOutcome::kWouldDo;
      r.detail = fmt::format("create ({} partitions): {}", partitions_, fmt::join(missing, ", "));
      return r;
    }
    std::vector<common::NewTopic> wanted;
    for (const auto& t : missing) wanted.push_back({t, partitions_, replication_factor_, {}});
    auto res = admin.CreateTopics(wanted, timeout_);
    if (!res.ok()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("cannot create {}: {}", fmt::join(missing, ", "), res.error().message);
      return r;
    }
    std::vector<std::string> created, failed;
    for (size_t i = 0; i < missing.size(); ++i) {
      if (i >= res->size()) {
        failed.push_back(missing[i] + " (no answer)");
        continue;
      }
      const auto& st = (*res)[i];
      if (st.ok() || st.error().code == "TOPIC_ALREADY_EXISTS") {  // a race with someone else
        created.push_back(missing[i]);
      } else {
        failed.push_back(missing[i] + " (" + st.error().message + ")");
      }
    }
    if (!failed.empty()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("cannot create {}", fmt::join(failed, ", "));
    } else {
      r.detail = fmt::format("created: {}", fmt::join(created, ", "));
      if (!existing.empty()) r.detail += fmt::format("; exist: {}", fmt::join(existing, ", "));
    }
  } catch (const std::exception& e) {
    r.outcome = StepOutcome::kFailed;
    r.detail = e.what();
  }
  return r;
}

}  // namespace rm::cdc::postgres
