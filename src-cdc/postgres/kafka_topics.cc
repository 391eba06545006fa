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

std::vector<std::string> TopicConfigProblems(const TopicSpec& spec,
                                             const std::map<std::string, std::string>& actual) {
  std::vector<std::string> problems;
  // Only the cleanup policy decides whether records are deleted from a compacted topic; a
  // compacted topic made by hand without retention settings keeps every key's last value.
  auto want = spec.configs.find("cleanup.policy");
  if (want == spec.configs.end()) return problems;
  auto have = actual.find("cleanup.policy");
  if (have == actual.end()) {
    problems.push_back(fmt::format(
        "{}: cleanup.policy is the broker default (delete unless log.cleanup.policy says "
        "otherwise), must be {}: alter it (kafka-configs --alter --add-config "
        "cleanup.policy={}) or the history is deleted after retention.ms",
        spec.name, want->second, want->second));
  } else if (have->second != want->second) {
    problems.push_back(
        fmt::format("{}: cleanup.policy is {}, must be {}: alter it "
                    "(kafka-configs --alter --add-config cleanup.policy={})",
                    spec.name, have->second, want->second, want->second));
  }
  return problems;
}

namespace {

std::string Describe(const TopicSpec& t, int default_partitions) {
  std::string s = fmt::format("{} ({} partitions", t.name,
                              t.partitions > 0 ? t.partitions : default_partitions);
  for (const auto& [k, v] : t.configs) s += fmt::format(", {}={}", k, v);
  return s + ")";
}

}  // namespace

StepReport KafkaTopicProvisioner::EnsureTopics(const std::vector<TopicSpec>& topics, bool dry_run) {
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
    std::vector<std::string> existing;
    std::vector<TopicSpec> missing;
    // Existing topics that must have configs (the compacted history): checked, since a
    // history topic made with the broker's delete policy loses versions after retention.
    std::vector<std::string> problems, unchecked;
    for (const auto& t : topics) {
      const common::TopicMetadata* tm = md->Find(t.name);
      bool exists = tm != nullptr && tm->error == RD_KAFKA_RESP_ERR_NO_ERROR;
      if (!exists) {
        missing.push_back(t);
        continue;
      }
      existing.push_back(t.name);
      if (t.configs.empty()) continue;
      auto actual = admin.DescribeTopicConfigs(t.name, timeout_);
      if (!actual.ok()) {
        unchecked.push_back(fmt::format("{} ({})", t.name, actual.error().message));
        continue;
      }
      for (auto& p : TopicConfigProblems(t, *actual)) problems.push_back(std::move(p));
    }
    std::string notes;
    if (!unchecked.empty()) {
      notes =
          fmt::format("; configs not checked (describe refused): {}", fmt::join(unchecked, ", "));
    }
    if (!problems.empty()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("{}", fmt::join(problems, "; "));
      return r;
    }
    if (missing.empty()) {
      r.outcome = StepOutcome::kAlreadyDone;
      r.detail = fmt::format("exist: {}{}", fmt::join(existing, ", "), notes);
      return r;
    }
    std::vector<std::string> missing_names, missing_described;
    for (const auto& t : missing) {
      missing_names.push_back(t.name);
      missing_described.push_back(Describe(t, partitions_));
    }
    if (!create_missing_) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("missing (kafka.create_topics is false, create them first): {}",
                             fmt::join(missing_described, ", "));
      return r;
    }
    if (dry_run) {
      r.outcome = StepOutcome::kWouldDo;
      r.detail = fmt::format("create: {}{}", fmt::join(missing_described, ", "), notes);
      return r;
    }
    auto res = admin.CreateTopics(NewTopics(missing, partitions_, replication_factor_), timeout_);
    if (!res.ok()) {
      r.outcome = StepOutcome::kFailed;
      r.detail =
          fmt::format("cannot create {}: {}", fmt::join(missing_names, ", "), res.error().message);
      return r;
    }
    std::vector<std::string> created, failed;
    for (size_t i = 0; i < missing.size(); ++i) {
      if (i >= res->size()) {
        failed.push_back(missing_names[i] + " (no answer)");
        continue;
      }
      const auto& st = (*res)[i];
      if (st.ok() || st.error().code == "TOPIC_ALREADY_EXISTS") {  // a race with someone else
        created.push_back(missing_described[i]);
      } else {
        failed.push_back(missing_names[i] + " (" + st.error().message + ")");
      }
    }
    if (!failed.empty()) {
      r.outcome = StepOutcome::kFailed;
      r.detail = fmt::format("cannot create {}", fmt::join(failed, ", "));
    } else {
      r.detail = fmt::format("created: {}", fmt::join(created, ", "));
      if (!existing.empty()) r.detail += fmt::format("; exist: {}", fmt::join(existing, ", "));
      r.detail += notes;
    }
  } catch (const std::exception& e) {
    r.outcome = StepOutcome::kFailed;
    r.detail = e.what();
  }
  return r;
}

std::vector<common::NewTopic> NewTopics(const std::vector<TopicSpec>& topics,
                                        int default_partitions, int replication_factor) {
  std::vector<common::NewTopic> out;
  for (const auto& t : topics) {
    out.push_back({t.name, t.partitions > 0 ? t.partitions : default_partitions, replication_factor,
                   t.configs});
  }
  return out;
}

}  // namespace rm::cdc::postgres
