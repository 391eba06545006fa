#include "topology/failover.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace rm::topology {
namespace {

constexpr std::array<std::pair<FailoverState, std::string_view>, 7> kStates = {{
    {FailoverState::kStarted, "started"},
    {FailoverState::kPositioned, "positioned"},
    {FailoverState::kTranslated, "translated"},
    {FailoverState::kChecked, "checked"},
    {FailoverState::kCommitted, "committed"},
    {FailoverState::kDone, "done"},
    {FailoverState::kRefused, "refused"},
}};

std::vector<TargetOffset> MappedTargets(const GroupFailover& rec) {
  std::vector<TargetOffset> out;
  for (const auto& p : rec.partitions) {
    if (p.target_offset >= 0) out.push_back({p.target_topic, p.partition, p.target_offset});
  }
  return out;
}

using TopicPartitionKey = std::pair<std::string, int32_t>;

std::map<TopicPartitionKey, int64_t> ByPartition(const std::vector<TargetOffset>& offsets) {
  std::map<TopicPartitionKey, int64_t> out;
  for (const auto& o : offsets) out[{o.topic, o.partition}] = o.offset;
  return out;
}

int64_t Lookup(const std::map<TopicPartitionKey, int64_t>& m, const std::string& topic,
               int32_t partition) {
  auto it = m.find({topic, partition});
  return it == m.end() ? -1 : it->second;
}

// Runs one group's steps; owns the record while it runs.
class Machine {
 public:
  Machine(const std::string& group, const FailoverOptions& options, FailoverIo& io,
          FailoverStateStore& store, const StepHook& hook)
      : group_(group), options_(options), io_(io), store_(store), hook_(hook) {}

  common::Result<GroupFailover> Run() {
    if (!options_.dry_run) {
      auto loaded = store_.Load(group_);
      if (!loaded.ok()) return loaded.error();
      if (*loaded && (*loaded)->from_region == options_.from_region &&
          (*loaded)->to_region == options_.to_region) {
        rec_ = **loaded;
        if (rec_.state == FailoverState::kDone) return rec_;
        resumed_ = true;
      }
    }
    if (!resumed_) {
      rec_ = GroupFailover{};
      rec_.group = group_;
      rec_.from_region = options_.from_region;
      rec_.to_region = options_.to_region;
      rec_.kind = options_.kind;
      rec_.started_ms = io_.NowMs();
    }
    rec_.forced = options_.force;
    rec_.error.clear();
    // A refused operation repeats its check: whatever made it refuse may be gone now.
    if (rec_.state == FailoverState::kRefused) rec_.state = FailoverState::kTranslated;

    while (rec_.state != FailoverState::kDone && rec_.state != FailoverState::kRefused) {
      const FailoverState before = rec_.state;
      common::Status st = Step();
      if (!st.ok()) return st.error();                                          // the store failed
      if (!rec_.error.empty() && rec_.state != FailoverState::kRefused) break;  // step failed
      if (options_.dry_run && rec_.state == FailoverState::kChecked) break;
      if (rec_.state == before) break;  // no progress (defensive: every step moves or fails)
    }
    return rec_;
  }

 private:
  common::Status Step() {
    switch (rec_.state) {
      case FailoverState::kStarted:
        return Position();
      case FailoverState::kPositioned:
        return TranslateAll();
      case FailoverState::kTranslated:
        return Check();
      case FailoverState::kChecked:
        return Commit();
      case FailoverState::kCommitted:
        return Verify();
      default:
        return common::Status::Ok();
    }
  }

  // Saves the record after `step`; a failed step saves its error with the state unchanged.
  common::Status Save(int step) {
    rec_.updated_ms = io_.NowMs();
    if (options_.dry_run) return common::Status::Ok();
    if (hook_) hook_(group_, step, false);
    common::Status st = store_.Save(rec_);
    if (st.ok() && hook_) hook_(group_, step, true);
    return st;
  }

  common::Status Fail(int step, std::string why) {
    rec_.error = std::move(why);
    return Save(step);
  }

  common::Status Position() {
    auto positions = io_.GroupPositions(group_);
    if (!positions.ok()) return Fail(1, positions.error().message);
    if (positions->empty()) {
      return Fail(1, fmt::format("group {} has no position on {} (no committed offset and no "
                                 "stored checkpoint)",
                                 group_, options_.from_region));
    }
    std::vector<SourcePosition> sorted = *positions;
    std::sort(sorted.begin(), sorted.end(), [](const SourcePosition& a, const SourcePosition& b) {
      return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
    rec_.partitions.clear();
    for (const auto& s : sorted) {
      PartitionMove m;
      m.source_topic = s.topic;
      m.partition = s.partition;
      m.source_offset = s.offset;
      m.from = s.from;
      m.checkpoint_ms = s.checkpoint_ms;
      rec_.partitions.push_back(std::move(m));
    }
    rec_.state = FailoverState::kPositioned;
    return Save(1);
  }

  common::Status TranslateAll() {
    for (auto& m : rec_.partitions) {
      SourcePosition s{m.source_topic, m.partition, m.source_offset, m.from, m.checkpoint_ms};
      auto t = io_.Translate(group_, s);
      if (!t.ok()) return Fail(2, t.error().message);
      m.target_topic = t->target_topic;
      m.target_offset = t->target_offset;
      m.how = t->how;
    }
    rec_.state = FailoverState::kTranslated;
    return Save(2);
  }

  common::Status Refuse(int step, std::string why) {
    rec_.state = FailoverState::kRefused;
    rec_.error = std::move(why);
    return Save(step);
  }

  common::Status Check() {
    std::map<std::string, std::string> residency;  // target topic -> "" or the problem
    std::string refusal;
    for (auto& m : rec_.partitions) {
      if (m.target_offset < 0) continue;
      auto it = residency.find(m.target_topic);
      if (it == residency.end()) {
        it = residency.emplace(m.target_topic, io_.ResidencyProblem(m.target_topic)).first;
      }
      m.residency = it->second.empty() ? "ok" : it->second;
      if (!it->second.empty() && refusal.empty()) refusal = "residency: " + it->second;
    }
    if (!refusal.empty()) return Refuse(3, refusal);
    if (options_.force) {
      rec_.activity = "not checked (--force)";
    } else {
      ActivityCheck a = io_.Activity(group_);
      switch (a.activity) {
        case TargetActivity::kActive:
          rec_.activity = "active";
          return Refuse(3, fmt::format("group {} has active members on {}: stop its consumers "
                                       "there first (or --force)",
                                       group_, options_.to_region));
        case TargetActivity::kInactive:
          rec_.activity = "inactive";
          break;
        case TargetActivity::kUnknown:
          rec_.activity = "unknown: " + a.detail;
          break;
      }
    }
    auto committed = io_.Committed(group_, MappedTargets(rec_));
    if (!committed.ok()) return Fail(3, committed.error().message);
    auto now = ByPartition(*committed);
    for (auto& m : rec_.partitions) {
      m.target_before = m.target_offset >= 0 ? Lookup(now, m.target_topic, m.partition) : -1;
      if (options_.dry_run) {
        m.outcome = m.target_offset < 0                  ? "no_mapping"
                    : m.target_before >= m.target_offset ? "kept"
                                                         : "would move";
      }
    }
    rec_.state = FailoverState::kChecked;
    return Save(3);
  }

  common::Status Commit() {
    auto committed = io_.Committed(group_, MappedTargets(rec_));
    if (!committed.ok()) return Fail(4, committed.error().message);
    auto now = ByPartition(*committed);
    std::vector<TargetOffset> commit;
    for (auto& m : rec_.partitions) {
      if (m.target_offset < 0) {
        m.outcome = "no_mapping";
        continue;
      }
      // Decided by what step 3 saw, so a resumed run records what an uninterrupted one does;
      // the commit itself by what is there now (never backwards).
      m.outcome = m.target_before >= m.target_offset ? "kept" : "moved";
      const int64_t current = Lookup(now, m.target_topic, m.partition);
      if (current < m.target_offset) {
        commit.push_back({m.target_topic, m.partition, m.target_offset});
      } else if (current > m.target_offset && m.outcome == "moved") {
        m.outcome = "kept";  // a consumer moved it beyond the translation since step 3
      }
    }
    if (!commit.empty()) {
      common::Status st = io_.Commit(group_, commit);
      if (!st.ok()) {
        if (st.error().code == "failover.group_active") return Refuse(4, st.error().message);
        return Fail(4, st.error().message);
      }
    }
    rec_.state = FailoverState::kCommitted;
    return Save(4);
  }

  common::Status Verify() {
    auto committed = io_.Committed(group_, MappedTargets(rec_));
    if (!committed.ok()) return Fail(5, committed.error().message);
    auto now = ByPartition(*committed);
    std::string short_of;
    for (auto& m : rec_.partitions) {
      if (m.target_offset < 0) continue;
      m.verified = Lookup(now, m.target_topic, m.partition);
      if (m.verified < m.target_offset && short_of.empty()) {
        short_of = fmt::format("{}[{}] reads back {} below the translated {}", m.target_topic,
                               m.partition, m.verified, m.target_offset);
      }
    }
    if (!short_of.empty()) {
      rec_.state = FailoverState::kChecked;  // a re-run commits again
      return Fail(5, short_of);
    }
    rec_.state = FailoverState::kDone;
    return Save(5);
  }

  const std::string& group_;
  const FailoverOptions& options_;
  FailoverIo& io_;
  FailoverStateStore& store_;
  const StepHook& hook_;
  GroupFailover rec_;
  bool resumed_ = false;
};

std::string Age(int64_t now_ms, int64_t then_ms) {
  const double s = static_cast<double>(now_ms - then_ms) / 1000.0;
  return s < 120 ? fmt::format("{:.1f} s", s) : fmt::format("{:.1f} min", s / 60);
}

}  // namespace

std::string_view ToString(FailoverState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "?";
}

std::optional<FailoverState> ParseFailoverState(std::string_view s) {
  for (const auto& [state, name] : kStates) {
    if (name == s) return state;
  }
  return std::nullopt;
}

int NextStep(FailoverState state) {
  switch (state) {
    case FailoverState::kStarted:
      return 1;
    case FailoverState::kPositioned:
      return 2;
    case FailoverState::kTranslated:
    case FailoverState::kRefused:
      return 3;
    case FailoverState::kChecked:
      return 4;
    case FailoverState::kCommitted:
      return 5;
    case FailoverState::kDone:
      return 0;
  }
  return 0;
}

nlohmann::json ToJson(const GroupFailover& r) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : r.partitions) {
    parts.push_back({{"source_topic", p.source_topic},
                     {"partition", p.partition},
                     {"source_offset", p.source_offset},
                     {"from", p.from},
                     {"checkpoint_ms", p.checkpoint_ms},
                     {"target_topic", p.target_topic},
                     {"target_offset", p.target_offset},
                     {"how", p.how},
                     {"residency", p.residency},
                     {"target_before", p.target_before},
                     {"outcome", p.outcome},
                     {"verified", p.verified}});
  }
  return {{"group", r.group},
          {"from_region", r.from_region},
          {"to_region", r.to_region},
          {"kind", r.kind},
          {"state", std::string(ToString(r.state))},
          {"partitions", std::move(parts)},
          {"forced", r.forced},
          {"activity", r.activity},
          {"error", r.error},
          {"started_ms", r.started_ms},
          {"updated_ms", r.updated_ms}};
}

common::Result<GroupFailover> GroupFailoverFromJson(const nlohmann::json& j) {
  try {
    GroupFailover r;
    r.group = j.at("group").get<std::string>();
    r.from_region = j.at("from_region").get<std::string>();
    r.to_region = j.at("to_region").get<std::string>();
    r.kind = j.at("kind").get<std::string>();
    auto state = ParseFailoverState(j.at("state").get<std::string>());
    if (!state)
      return common::Error{"failover.bad_record", "unknown state " + j.at("state").dump()};
    r.state = *state;
    for (const auto& p : j.at("partitions")) {
      PartitionMove m;
      m.source_topic = p.at("source_topic").get<std::string>();
      m.partition = p.at("partition").get<int32_t>();
      m.source_offset = p.at("source_offset").get<int64_t>();
      m.from = p.at("from").get<std::string>();
      m.checkpoint_ms = p.at("checkpoint_ms").get<int64_t>();
      m.target_topic = p.at("target_topic").get<std::string>();
      m.target_offset = p.at("target_offset").get<int64_t>();
      m.how = p.at("how").get<std::string>();
      m.residency = p.value("residency", "");
      m.target_before = p.at("target_before").get<int64_t>();
      m.outcome = p.at("outcome").get<std::string>();
      m.verified = p.at("verified").get<int64_t>();
      r.partitions.push_back(std::move(m));
    }
    r.forced = j.at("forced").get<bool>();
    r.activity = j.at("activity").get<std::string>();
    r.error = j.at("error").get<std::string>();
    r.started_ms = j.at("started_ms").get<int64_t>();
    r.updated_ms = j.at("updated_ms").get<int64_t>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    return common::Error{"failover.bad_record", e.what()};
  }
}

common::Result<GroupFailover> RunGroupFailover(const std::string& group,
                                               const FailoverOptions& options, FailoverIo& io,
                                               FailoverStateStore& store, const StepHook& hook) {
  return Machine(group, options, io, store, hook).Run();
}

std::string FailoverText(const std::vector<GroupFailover>& records, int64_t now_ms) {
  std::string out;
  for (const auto& r : records) {
    out +=
        fmt::format("group {}: {} {}: {}{}{}\n", r.group, r.kind, r.direction(), ToString(r.state),
                    r.forced ? " (forced)" : "", r.error.empty() ? "" : " - " + r.error);
    if (!r.activity.empty()) out += fmt::format("  members on {}: {}\n", r.to_region, r.activity);
    for (const auto& p : r.partitions) {
      const std::string from = p.from == "checkpoint"
                                   ? fmt::format("checkpoint, {} old", Age(now_ms, p.checkpoint_ms))
                                   : p.from;
      out += fmt::format("  {}[{}] {} ({})", p.source_topic, p.partition, p.source_offset, from);
      if (!p.target_topic.empty()) {
        out += fmt::format(" -> {}[{}] {}", p.target_topic, p.partition, p.target_offset);
      }
      if (!p.how.empty()) out += fmt::format(" [{}]", p.how);
      if (!p.residency.empty()) out += fmt::format(" residency {}", p.residency);
      if (!p.outcome.empty()) {
        out += fmt::format("  before {}: {}", p.target_before, p.outcome);
      }
      if (p.verified >= 0) out += fmt::format(", verified {}", p.verified);
      out += "\n";
    }
  }
  return out;
}

}  // namespace rm::topology
