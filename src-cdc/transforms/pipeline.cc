#include "src-cdc/transforms/pipeline.h"

#include <fmt/format.h>

#include "common/log.h"

namespace rm::cdc::transforms {

using common::Error;
using common::Result;

TransformPipeline::TransformPipeline(const TransformsConfig& config,
                                     const std::vector<CapturedTable>& tables,
                                     prometheus::Registry& registry)
    : config_(config) {
  auto& filtered = prometheus::BuildCounter()
                       .Name("rm_cdc_transform_filtered_total")
                       .Help("Change events a transform dropped on purpose (acknowledged)")
                       .Register(registry);
  auto& failures = prometheus::BuildCounter()
                       .Name("rm_cdc_transform_failures_total")
                       .Help("Change events a transform failed on")
                       .Register(registry);
  auto& dead = prometheus::BuildCounter()
                   .Name("rm_cdc_transform_dead_lettered_total")
                   .Help("Failed change events written untransformed to the dead-letter topic")
                   .Register(registry);
  for (const CapturedTable& t : tables) {
    Chain chain{t.table, {}};
    for (const TransformStep& s : config_.steps) {
      if (!s.AppliesTo(t.table)) continue;
      const prometheus::Labels labels{{"table", t.table}, {"transform", s.name}};
      chain.steps.push_back(Step{&s, &filtered.Add(labels), &failures.Add(labels),
                                 &dead.Add(labels), std::make_unique<StepCounts>()});
    }
    if (!chain.steps.empty()) by_topic_.emplace(t.topic, std::move(chain));
  }
}

Result<TransformPipeline::Outcome> TransformPipeline::Apply(ChangeEvent& event) {
  auto it = by_topic_.find(event.topic);
  if (it == by_topic_.end()) return Outcome::kEmit;
  Chain& chain = it->second;
  // Kept only when a failure would send it to the dead-letter topic as it came.
  std::optional<ChangeEvent> original;
  if (config_.tolerance == ErrorTolerance::kAll) original = event;
  std::vector<bool> applied(chain.steps.size(), false);
  for (size_t i = 0; i < chain.steps.size(); ++i) {
    const Step& step = chain.steps[i];
    const TransformStep& s = *step.spec;
    if (s.predicate && s.predicate->Matches(event) == s.negate) continue;
    applied[i] = true;
    Result<Verdict> verdict = s.transform->Apply(event);
    if (verdict.ok()) {
      if (*verdict == Verdict::kDrop) {
        step.filtered->Increment();
        ++step.counts->filtered;
        return Outcome::kFiltered;
      }
      continue;
    }
    return Fail(chain, step, event, original, verdict.error().message);
  }
  if (event.schemas) {
    size_t failed_step = 0;
    auto mapped = MapSchemas(chain, event.schemas, applied, &failed_step);
    if (!mapped.ok()) {
      return Fail(chain, chain.steps[failed_step], event, original,
                  "schema: " + mapped.error().message);
    }
    event.schemas = std::move(*mapped);
  }
  return Outcome::kEmit;
}

Result<TransformPipeline::Outcome> TransformPipeline::Fail(const Chain& chain, const Step& step,
                                                           ChangeEvent& event,
                                                           std::optional<ChangeEvent>& original,
                                                           const std::string& reason) {
  const TransformStep& s = *step.spec;
  step.failures->Increment();
  ++step.counts->failures;
  const std::string what = fmt::format("transform '{}' ({}) failed on {} at {}: {}", s.name, s.type,
                                       chain.table, DescribePosition(event), reason);
  if (!original) {
    RM_LOG_ERROR("{}; stopping (errors.tolerance: none), the position stays before it", what);
    return Error{"transform.failed",
                 what +
                     " (errors.tolerance: none: the capture stops at this event; fix the "
                     "transform or set errors.tolerance: all with a dead-letter topic)"};
  }
  RM_LOG_ERROR("{}; written untransformed to the dead-letter topic {}", what,
               config_.dead_letter_topic);
  step.dead_lettered->Increment();
  ++step.counts->dead_lettered;
  event = std::move(*original);
  event.topic = config_.dead_letter_topic;
  event.drop_tombstone = true;
  return Outcome::kDeadLetter;
}

Result<std::shared_ptr<const ConnectSchemas>> TransformPipeline::MapSchemas(
    Chain& chain, const std::shared_ptr<const ConnectSchemas>& captured,
    const std::vector<bool>& applied, size_t* failed_step) {
  auto key = std::make_pair(captured.get(), applied);
  auto found = chain.schemas.find(key);
  if (found != chain.schemas.end()) return found->second.mapped;
  RecordSchema schema;
  try {
    if (!captured->key.empty()) schema.key = Json::parse(captured->key);
    schema.value = Json::parse(captured->value);
  } catch (const Json::exception& e) {
    return Error{"transform.failed", fmt::format("unreadable captured schema: {}", e.what())};
  }
  for (size_t i = 0; i < chain.steps.size(); ++i) {
    if (!applied[i]) continue;
    if (auto st = chain.steps[i].spec->transform->MapSchema(schema); !st.ok()) {
      *failed_step = i;
      return st.error();
    }
  }
  auto mapped = std::make_shared<ConnectSchemas>();
  auto dump = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  if (!schema.key.is_null()) mapped->key = dump(schema.key);
  mapped->value = dump(schema.value);
  chain.schemas.emplace(key, MappedSchemas{captured, mapped});
  return std::shared_ptr<const ConnectSchemas>(std::move(mapped));
}

TransformPipeline::Counts TransformPipeline::CountsFor(const std::string& table,
                                                       const std::string& transform) const {
  for (const auto& [topic, chain] : by_topic_) {
    if (chain.table != table) continue;
    for (const Step& s : chain.steps) {
      if (s.spec->name != transform) continue;
      return Counts{s.counts->filtered.load(), s.counts->failures.load(),
                    s.counts->dead_lettered.load()};
    }
  }
  return Counts{};
}

}  // namespace rm::cdc::transforms
