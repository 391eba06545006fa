#include "topology/kafka/failover_kafka.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "common/log.h"
#include "offsets/checkpoint_store.h"
#include "offsets/kafka/group_offsets.h"
#include "offsets/kafka/internal_topics.h"
#include "offsets/offset_store.h"
#include "topology/mirror_config.h"
#include "topology/planner.h"
#include "topology/residency.h"

namespace rm::topology::kafka {
namespace {

using namespace std::chrono_literals;
using common::ConfigError;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The primary cluster of a region with its secrets read, as client properties.
common::KafkaProperties ClientProps(const Topology& topology, size_t region) {
  return topology.PrimaryCluster(region).WithSecrets(topology.config().file).ClientProperties();
}

size_t RegionOrThrow(const Topology& topology, const std::string& name, const char* flag) {
  auto i = topology.RegionIndex(name);
  if (!i) {
    throw ConfigError(fmt::format("{}: --{} '{}' is not a region of the topology",
                                  topology.config().file, flag, name));
  }
  return *i;
}

// One metadata round trip: whether the cluster answers, and how fast.
RegionHealth Probe(const std::string& region, const std::string& alias,
                   const common::KafkaProperties& props, std::chrono::milliseconds timeout) {
  RegionHealth h{region, alias};
  try {
    common::AdminClient admin(props, "probe " + alias);
    auto t0 = std::chrono::steady_clock::now();
    auto md = admin.Metadata(std::nullopt, timeout);
    h.latency_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    if (md.ok() && !md->brokers.empty()) {
      h.up = true;
      h.brokers = static_cast<int>(md->brokers.size());
    } else {
      h.detail = md.ok() ? "no brokers in the answer" : md.error().message;
      h.latency_ms = -1;
    }
  } catch (const ConfigError& e) {
    h.detail = e.what();
  }
  return h;
}

// The failover records in one cluster's state topic: the newest per group.
common::Result<std::map<std::string, GroupFailover>> ReadRecords(
    const common::KafkaProperties& props, const std::string& alias,
    std::chrono::milliseconds timeout) {
  std::map<std::string, GroupFailover> out;
  common::KafkaProperties p = props;
  p["group.id"] = "regionmirror-failover-reader";
  p["enable.auto.commit"] = "false";
  p["enable.partition.eof"] = "true";
  common::Consumer consumer(p, nullptr, "failover state on " + alias);
  auto wm = consumer.QueryWatermarks(kFailoverStateTopic, 0, timeout);
  if (!wm.ok()) return wm.error();
  if (wm->high <= wm->low) return out;
  auto st = consumer.Assign({{kFailoverStateTopic, 0, wm->low}});
  if (!st.ok()) return st.error();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t next = wm->low;
  while (next < wm->high) {
    if (std::chrono::steady_clock::now() > deadline) {
      return common::Error{"failover.state_timeout",
                           fmt::format("{}: reading {} stopped at offset {} of {}", alias,
                                       kFailoverStateTopic, next, wm->high)};
    }
    common::KafkaMessage m = consumer.Poll(200ms);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err) continue;
    next = m->offset + 1;
    if (m->payload == nullptr) continue;  // a tombstone
    std::string value(static_cast<const char*>(m->payload), m->len);
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded()) continue;
    auto rec = GroupFailoverFromJson(j);
    if (!rec.ok()) {
      RM_LOG_WARN("{}: skipping an unreadable failover record at offset {}: {}", alias, m->offset,
                  rec.error().message);
      continue;
    }
    auto it = out.find(rec->group);
    if (it == out.end() || it->second.updated_ms <= rec->updated_ms) out[rec->group] = *rec;
  }
  return out;
}

// Records in the state topics of `to` (required) and `from` (when it answers).
class KafkaStateStore final : public FailoverStateStore {
 public:
  struct Side {
    std::string alias;
    common::KafkaProperties props;
  };

  KafkaStateStore(std::vector<Side> sides, std::chrono::milliseconds timeout)
      : sides_(std::move(sides)), timeout_(timeout) {
    for (size_t i = 0; i < sides_.size(); ++i) {
      common::AdminClient admin(sides_[i].props, "failover state admin " + sides_[i].alias);
      bool create_supported = true;
      auto st = offsets::kafka::EnsureInternalTopic(admin, kFailoverStateTopic, "compact", timeout_,
                                                    &create_supported);
      if (!st.ok()) {
        if (i == 0) {
          throw ConfigError(fmt::format("{}: cannot prepare topic {}: {}", sides_[i].alias,
                                        kFailoverStateTopic, st.error().message));
        }
        RM_LOG_WARN("{}: no failover records there ({})", sides_[i].alias, st.error().message);
        continue;
      }
      auto recs = ReadRecords(sides_[i].props, sides_[i].alias, timeout_);
      if (!recs.ok()) {
        if (i == 0) {
          throw ConfigError(fmt::format("{}: cannot read {}: {}", sides_[i].alias,
                                        kFailoverStateTopic, recs.error().message));
        }
        continue;
      }
      for (auto& [g, r] : *recs) Keep(r);
      auto p = sides_[i].props;
      p["enable.idempotence"] = "true";
      p["acks"] = "all";
      p["linger.ms"] = "2";
      writers_.push_back(std::make_unique<Writer>(p, sides_[i].alias));
    }
  }

  common::Result<std::optional<GroupFailover>> Load(const std::string& group) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(group);
    if (it == records_.end()) return std::optional<GroupFailover>{};
    return std::optional<GroupFailover>(it->second);
  }

  // Durable on `to` (the first writer); the copy on `from` is best effort (it may be down).
  common::Status Save(const GroupFailover& record) override {
    const std::string value = ToJson(record).dump();
    for (size_t i = 0; i < writers_.size(); ++i) {
      common::Status st = writers_[i]->Write(record.group, value, timeout_);
      if (!st.ok()) {
        if (i == 0) return st;
        RM_LOG_WARN("{}", st.error().message);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    records_[record.group] = record;
    return common::Status::Ok();
  }

 private:
  // A producer whose Write waits for its own record's delivery report.
  class Writer {
   public:
    Writer(const common::KafkaProperties& props, const std::string& alias)
        : alias_(alias),
          producer_(
              props,
              [](const rd_kafka_message_t& msg) {
                auto* d = static_cast<Delivery*>(msg._private);
                d->err.store(msg.err);
                d->done.store(true);
              },
              "failover state writer " + alias) {}

    common::Status Write(const std::string& key, const std::string& value,
                         std::chrono::milliseconds timeout) {
      Delivery d;
      common::ProduceRecord r;
      r.topic = kFailoverStateTopic;
      r.partition = 0;
      r.key = key;
      r.value = value;
      auto deadline = std::chrono::steady_clock::now() + timeout;
      for (;;) {
        rd_kafka_resp_err_t err = producer_.Produce(r, &d);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
          return common::KafkaError(err, alias_ + ": write failover record");
        }
        producer_.Poll(10ms);
      }
      while (!d.done.load()) {
        producer_.Poll(5ms);
        if (std::chrono::steady_clock::now() > deadline && !d.done.load()) {
          // The record may still be delivered; Delivery must outlive the report, so wait on.
          producer_.Flush(std::chrono::hours(1)).PermitUnchecked();
          if (!d.done.load()) break;
        }
      }
      if (d.err.load() != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return common::KafkaError(d.err.load(),
                                  fmt::format("{}: write failover record of {}", alias_, key));
      }
      return common::Status::Ok();
    }

   private:
    struct Delivery {
      std::atomic<bool> done{false};
      std::atomic<rd_kafka_resp_err_t> err{RD_KAFKA_RESP_ERR_NO_ERROR};
    };
    std::string alias_;
    common::Producer producer_;
  };

  void Keep(const GroupFailover& r) {
    auto it = records_.find(r.group);
    if (it == records_.end() || it->second.updated_ms <= r.updated_ms) records_[r.group] = r;
  }

  std::vector<Side> sides_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::mutex mu_;
  std::map<std::string, GroupFailover> records_;
};

bool IsMembershipError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
         err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
}

// FailoverIo over the clusters of `from` and `to` and the offsets store.
class KafkaFailoverIo final : public FailoverIo {
 public:
  KafkaFailoverIo(const Topology& topology, size_t from, size_t to, const FailoverRequest& request,
                  offsets::OffsetMap* map, offsets::CheckpointStore* checkpoints,
                  std::string no_store, bool source_up,
                  std::optional<common::ClusterMetadata> source_metadata)
      : topology_(topology),
        from_(from),
        to_(to),
        from_alias_(topology.PrimaryCluster(from).alias),
        to_alias_(topology.PrimaryCluster(to).alias),
        request_(request),
        map_(map),
        checkpoints_(checkpoints),
        no_store_(std::move(no_store)),
        source_up_(source_up),
        source_metadata_(std::move(source_metadata)),
        to_props_(ClientProps(topology, to)),
        residency_(std::shared_ptr<const Topology>(&topology, [](const Topology*) {})) {
    if (source_up_) from_props_ = ClientProps(topology, from);
  }

  common::Result<std::vector<SourcePosition>> GroupPositions(const std::string& group) override {
    if (source_up_) return LivePositions(group);
    return CheckpointPositions(group);
  }

  common::Result<TranslatedPosition> Translate(const std::string&,
                                               const SourcePosition& s) override {
    std::string upstream;
    auto rule = topology_.RuleForTopic(s.topic, &upstream);
    if (!rule) return TranslatedPosition{"", -1, "no topic rule governs " + s.topic};
    const std::string home = HomeAlias(*rule, s.topic, upstream);
    int64_t at_home = s.offset;
    std::string how;
    if (home != from_alias_) {
      const std::string flow = home + "->" + from_alias_;
      auto runs = Runs(flow, upstream, s.partition);
      if (!runs.ok()) return runs.error();
      BackTranslation b = TranslateBack(*runs, s.offset);
      how = fmt::format("back via {} ({})", flow, b.kind);
      if (b.source < 0) return TranslatedPosition{TargetName(home, upstream), -1, how};
      at_home = b.source;
    }
    if (home == to_alias_) return TranslatedPosition{upstream, at_home, how};
    const std::string flow = home + "->" + to_alias_;
    if (!map_) return NoStore();
    auto t = map_->Translate({flow, upstream, s.partition}, common::SourceOffset(at_home));
    if (!t.ok()) return t.error();
    if (!how.empty()) how += ", then ";
    how += fmt::format("forward via {} ({})", flow, offsets::ToString(t->kind));
    const int64_t target = t->kind == offsets::TranslationKind::kNoMapping ? -1 : t->target.value();
    return TranslatedPosition{TargetName(home, upstream), target, how};
  }

  std::string ResidencyProblem(const std::string& target_topic) override {
    auto d = residency_.MayHold(target_topic, to_);
    if (d.allowed) return "";
    return residency_.Explain(target_topic, topology_.region(to_).name);
  }

  ActivityCheck Activity(const std::string& group) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!describe_unsupported_.empty()) {
        return {TargetActivity::kUnknown, describe_unsupported_};
      }
      if (!admin_) admin_ = std::make_unique<common::AdminClient>(to_props_, "failover admin");
    }
    auto a = offsets::kafka::DescribeGroupActivity(*admin_, group, 2000ms);
    if (a.ok()) {
      return {*a == offsets::kafka::GroupActivity::kActive ? TargetActivity::kActive
                                                           : TargetActivity::kInactive,
              ""};
    }
    std::lock_guard<std::mutex> lock(mu_);
    describe_unsupported_ = fmt::format(
        "{} did not answer DescribeGroups ({}); the commit is a non-member commit, which the "
        "broker refuses while the group has members",
        to_alias_, a.error().message);
    return {TargetActivity::kUnknown, describe_unsupported_};
  }

  common::Result<std::vector<TargetOffset>> Committed(
      const std::string& group, const std::vector<TargetOffset>& partitions) override {
    std::vector<TargetOffset> out;
    if (partitions.empty()) return out;
    std::vector<common::TopicPartition> tps;
    for (const auto& p : partitions) tps.push_back({p.topic, p.partition});
    auto r = Client(group).Committed(tps, request_.target_timeout);
    if (!r.ok()) return r.error();
    for (const auto& tp : *r) {
      if (tp.offset >= 0) out.push_back({tp.topic, tp.partition, tp.offset});
    }
    return out;
  }

  common::Status Commit(const std::string& group,
                        const std::vector<TargetOffset>& offsets) override {
    std::vector<common::TopicPartition> tps;
    for (const auto& o : offsets) tps.push_back({o.topic, o.partition, o.offset});
    common::PartitionListPtr list = common::ToPartitionList(tps);
    common::Consumer& c = Client(group);
    rd_kafka_resp_err_t err = rd_kafka_commit(c.handle(), list.get(), 0);
    for (int i = 0; !err && i < list->cnt; ++i) err = list->elems[i].err;
    if (!err) return common::Status::Ok();
    if (IsMembershipError(err)) {
      return common::Error{
          "failover.group_active",
          fmt::format("{} refused the commit for group {} ({}): the group has members there "
                      "(on the testbed's mock: has ever joined there); stop its consumers first",
                      to_alias_, group, rd_kafka_err2name(err))};
    }
    return common::KafkaError(err, fmt::format("{}: commit for group {}", to_alias_, group));
  }

  int64_t NowMs() override { return kafka::NowMs(); }

  // Drops the group's clients once its operation ended.
  void Release(const std::string& group) {
    std::unique_ptr<common::Consumer> c;  // destroyed after the lock is released
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = clients_.find(group); it != clients_.end()) {
      c = std::move(it->second);
      clients_.erase(it);
    }
  }

 private:
  common::Error NoStore() const { return common::Error{"failover.no_store", no_store_}; }

  // The cluster alias of the region that writes `name` (a name in `from`).
  std::string HomeAlias(size_t rule, const std::string& name, const std::string& upstream) const {
    const auto& placement = topology_.placement(rule);
    if (name == upstream && placement.home[from_]) return from_alias_;
    if (name != upstream) {
      const std::string& sep = topology_.config().separator;
      return name.substr(0, name.size() - upstream.size() - sep.size());
    }
    for (size_t r = 0; r < topology_.region_count(); ++r) {
      if (placement.home[r]) return topology_.PrimaryCluster(r).alias;
    }
    return from_alias_;
  }

  std::string TargetName(const std::string& home, const std::string& upstream) const {
    return home == to_alias_ ? upstream : topology_.RemoteName(home, upstream);
  }

  common::Result<std::vector<offsets::Run>> Runs(const std::string& flow, const std::string& topic,
                                                 int32_t partition) {
    std::vector<offsets::Run> runs;
    offsets::RunFilter f{flow, topic, partition};
    if (!map_) return NoStore();
    auto st = map_->ForEachRun(f, [&](const offsets::PartitionKey&, const offsets::Run& r) {
      runs.push_back(r);
      return true;
    });
    if (!st.ok()) return st.error();
    return runs;
  }

  // The topic names the group reads in `from` that have a copy in `to`.
  std::vector<std::string> GroupTopicsInFrom(const std::string& group) const {
    std::set<std::string> names;
    const GroupRule* rule = nullptr;
    for (const auto& g : topology_.config().groups) {
      if (g.name == group ||
          (!g.pattern.empty() && std::regex_match(group, std::regex(g.pattern)))) {
        rule = &g;
        break;
      }
    }
    auto reaches_to = [&](size_t r) { return topology_.placement(r).Holds(to_); };
    if (rule && !rule->topics.empty()) {
      for (const auto& t : rule->topics) {
        auto r = topology_.RuleForTopic(t, nullptr);
        if (!r || !reaches_to(*r)) continue;
        for (auto& n : topology_.NamesIn(*r, t, from_)) names.insert(n);
      }
    } else if (source_metadata_) {
      for (const auto& t : source_metadata_->topics) {
        auto r = topology_.RuleForTopic(t.name, nullptr);
        if (r && reaches_to(*r) && topology_.placement(*r).Holds(from_)) names.insert(t.name);
      }
    }
    return {names.begin(), names.end()};
  }

  common::Result<std::vector<SourcePosition>> LivePositions(const std::string& group) {
    std::vector<common::TopicPartition> tps;
    for (const auto& name : GroupTopicsInFrom(group)) {
      const auto* t = source_metadata_->Find(name);
      if (!t || t->error) continue;
      for (const auto& p : t->partitions) tps.push_back({name, p.id});
    }
    auto client = offsets::kafka::MakeGroupOffsetsClient(from_props_, group,
                                                         "failover source " + from_alias_);
    auto offsets = offsets::kafka::ReadGroupOffsets(*client, tps, request_.source_timeout * 3);
    if (!offsets.ok()) return offsets.error();
    std::vector<SourcePosition> out;
    for (const auto& o : *offsets) {
      out.push_back({o.topic, o.partition, o.committed.value(), "live", 0});
    }
    return out;
  }

  // `from` is down: the newest stored checkpoints of the flow from -> to. Only topics written
  // in `from` are checkpointed there (a group's position on a copy held in `from` is not).
  common::Result<std::vector<SourcePosition>> CheckpointPositions(const std::string& group) {
    offsets::CheckpointFilter f;
    f.group = group;
    f.flow = from_alias_ + "->" + to_alias_;
    if (!checkpoints_) return NoStore();
    auto list = checkpoints_->List(f);
    if (!list.ok()) return list.error();
    if (list->empty()) {
      return common::Error{
          "failover.no_position",
          fmt::format("{} does not answer and the offsets store has no checkpoint of group {} "
                      "for flow {}",
                      from_alias_, group, *f.flow)};
    }
    std::vector<SourcePosition> out;
    for (const auto& c : *list) {
      out.push_back({c.topic, c.partition, c.source_offset.value(), "checkpoint", c.time_ms});
    }
    return out;
  }

  common::Consumer& Client(const std::string& group) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& c = clients_[group];
    if (!c) {
      c = offsets::kafka::MakeGroupOffsetsClient(to_props_, group, "failover target " + to_alias_);
    }
    return *c;
  }

  const Topology& topology_;
  const size_t from_, to_;
  const std::string from_alias_, to_alias_;
  const FailoverRequest& request_;
  // Null when the store could not be opened: groups past step 2 still resume (steps 3-5 need
  // only the target), the others stop with `no_store_`.
  offsets::OffsetMap* map_;
  offsets::CheckpointStore* checkpoints_;
  const std::string no_store_;
  const bool source_up_;
  const std::optional<common::ClusterMetadata> source_metadata_;
  common::KafkaProperties from_props_, to_props_;
  ResidencyGuard residency_;

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<common::Consumer>> clients_;
  std::unique_ptr<common::AdminClient> admin_;
  std::string describe_unsupported_;
};

// The groups to move: literal names, else the topology's groups allowed in `to` and the
// checkpointed groups a group pattern matches; then the regex.
std::vector<std::string> SelectGroups(const Topology& topology, size_t to,
                                      const FailoverRequest& request,
                                      offsets::CheckpointStore* checkpoints,
                                      std::vector<std::string>* notes) {
  std::set<std::string> out;
  if (!request.groups.empty()) {
    out.insert(request.groups.begin(), request.groups.end());
  } else {
    std::vector<std::regex> patterns;
    for (const auto& g : topology.config().groups) {
      bool allowed = false;
      for (const auto& glob : g.regions)
        allowed = allowed || RegionMatches(glob, topology.region(to).name);
      if (!allowed) continue;
      if (!g.name.empty()) out.insert(g.name);
      if (!g.pattern.empty()) patterns.emplace_back(g.pattern);
    }
    if (!patterns.empty() && checkpoints) {
      auto all = checkpoints->List({});
      if (all.ok()) {
        for (const auto& c : *all) {
          for (const auto& re : patterns) {
            if (std::regex_match(c.group, re)) out.insert(c.group);
          }
        }
      }
    }
  }
  std::vector<std::string> selected;
  std::optional<std::regex> re;
  if (!request.groups_regex.empty()) re.emplace(request.groups_regex);
  for (const auto& g : out) {
    if (re && !std::regex_match(g, *re)) continue;
    // A group the topology keeps out of `to` is not moved there.
    for (const auto& rule : topology.config().groups) {
      const bool matches = rule.name == g ||
                           (!rule.pattern.empty() && std::regex_match(g, std::regex(rule.pattern)));
      if (!matches) continue;
      bool allowed = false;
      for (const auto& glob : rule.regions) {
        allowed = allowed || RegionMatches(glob, topology.region(to).name);
      }
      if (!allowed) {
        notes->push_back(fmt::format("group {} may not run in {} (groups[{}] regions): skipped", g,
                                     topology.region(to).name, rule.index));
        goto next;
      }
      break;
    }
    selected.push_back(g);
  next:;
  }
  return selected;
}

}  // namespace

BackTranslation TranslateBack(const std::vector<offsets::Run>& runs, int64_t target) {
  if (runs.empty()) return {};
  // The last run starting at or before `target`.
  auto it =
      std::upper_bound(runs.begin(), runs.end(), target,
                       [](int64_t t, const offsets::Run& r) { return t < r.target_start.value(); });
  if (it == runs.begin()) return {runs.front().source_start.value(), "below_earliest"};
  const offsets::Run& r = *std::prev(it);
  if (target < r.target_end().value()) {
    return {r.source_start.value() + (target - r.target_start.value()), "exact"};
  }
  return {r.source_end().value(), "after_run"};
}

bool FailoverReport::ok() const {
  if (groups.empty()) return false;
  for (const auto& g : groups) {
    if (g.state != FailoverState::kDone &&
        !(g.state == FailoverState::kChecked && g.error.empty())) {
      return false;
    }
  }
  return true;
}

FailoverReport RunFailover(const Topology& topology, const FailoverRequest& request) {
  const size_t from = RegionOrThrow(topology, request.from_region, "from");
  const size_t to = RegionOrThrow(topology, request.to_region, "to");
  if (from == to) throw ConfigError("--from and --to name the same region");
  FailoverReport report;
  report.now_ms = NowMs();

  // The offsets store: the topology's offsets.dir unless given.
  std::string dir = request.offsets_dir;
  if (dir.empty()) {
    PlanScope scope;
    scope.pair = {request.from_region, request.to_region};
    auto plan = MakePlan(topology, scope);
    if (!plan.ok()) throw ConfigError(plan.error().message);
    dir = MirrorConfigFor(topology, *plan).offsets.dir;
  }
  if (dir.empty()) {
    throw ConfigError(
        fmt::format("{}: offsets.dir is not set: failover needs the offset map "
                    "(or pass --offsets_dir)",
                    topology.config().file));
  }
  report.store_dir = dir;
  offsets::OffsetStoreOptions so;
  so.secondary = true;
  auto store = offsets::OffsetStore::Open(dir, so);
  std::unique_ptr<offsets::OffsetMap> map;
  std::unique_ptr<offsets::CheckpointStore> checkpoints;
  std::string no_store;
  if (store.ok()) {
    map = std::make_unique<offsets::OffsetMap>(**store);
    checkpoints = std::make_unique<offsets::CheckpointStore>(**store);
  } else {
    // Groups whose records are past step 2 resume without it (from another machine, say).
    no_store = fmt::format(
        "offsets store {}: {} (positions and translations need it: run where the mirror keeps "
        "it, or rebuild the map with `regionmirror offsets rebuild` and pass --offsets_dir)",
        dir, store.error().message);
    report.notes.push_back(no_store);
  }

  // Does `from` answer? One probe for all groups.
  const std::string from_alias = topology.PrimaryCluster(from).alias;
  const std::string to_alias = topology.PrimaryCluster(to).alias;
  std::optional<common::ClusterMetadata> source_md;
  {
    common::AdminClient probe(ClientProps(topology, from), "failover probe " + from_alias);
    auto md = probe.Metadata(std::nullopt, request.source_timeout);
    if (md.ok() && !md->brokers.empty()) {
      report.source_up = true;
      source_md = std::move(md).value();
    } else {
      report.source_detail = md.ok() ? "no brokers in its metadata" : md.error().message;
    }
  }

  std::vector<KafkaStateStore::Side> sides{{to_alias, ClientProps(topology, to)}};
  if (report.source_up) sides.push_back({from_alias, ClientProps(topology, from)});
  std::unique_ptr<KafkaStateStore> state;
  std::unique_ptr<FailoverStateStore> scratch;
  if (!request.dry_run) state = std::make_unique<KafkaStateStore>(sides, request.target_timeout);

  // A dry run reads records but never writes: an in-memory store over what it read.
  class ReadOnlyStore final : public FailoverStateStore {
   public:
    common::Result<std::optional<GroupFailover>> Load(const std::string&) override {
      return std::optional<GroupFailover>{};
    }
    common::Status Save(const GroupFailover&) override { return common::Status::Ok(); }
  };
  ReadOnlyStore read_only;
  FailoverStateStore& records = state ? static_cast<FailoverStateStore&>(*state) : read_only;

  KafkaFailoverIo io(topology, from, to, request, map.get(), checkpoints.get(), no_store,
                     report.source_up, source_md);
  std::vector<std::string> groups =
      SelectGroups(topology, to, request, checkpoints.get(), &report.notes);
  if (groups.empty()) {
    report.notes.push_back("no group selected (give --group, or list groups in the topology)");
    return report;
  }

  FailoverOptions options;
  options.from_region = request.from_region;
  options.to_region = request.to_region;
  options.kind = request.kind;
  options.force = request.force;
  options.dry_run = request.dry_run;

  std::vector<std::optional<GroupFailover>> results(groups.size());
  std::atomic<size_t> next{0};
  std::mutex errors_mu;
  auto worker = [&] {
    for (size_t i = next++; i < groups.size(); i = next++) {
      auto r = RunGroupFailover(groups[i], options, io, records, request.hook);
      io.Release(groups[i]);
      if (r.ok()) {
        results[i] = std::move(r).value();
      } else {
        GroupFailover failed;
        failed.group = groups[i];
        failed.from_region = request.from_region;
        failed.to_region = request.to_region;
        failed.kind = request.kind;
        failed.error = "failover records: " + r.error().message;
        std::lock_guard<std::mutex> lock(errors_mu);
        results[i] = failed;
      }
    }
  };
  const int n = std::max(1, std::min<int>(request.parallelism, static_cast<int>(groups.size())));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  for (auto& r : results) report.groups.push_back(std::move(*r));
  return report;
}

nlohmann::json ToJson(const FailoverReport& report) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : report.groups) groups.push_back(ToJson(g));
  return {{"source_up", report.source_up},
          {"source_detail", report.source_detail},
          {"offsets_store", report.store_dir},
          {"now_ms", report.now_ms},
          {"ok", report.ok()},
          {"notes", report.notes},
          {"groups", std::move(groups)}};
}

std::string FailoverReportText(const FailoverReport& report) {
  std::string out;
  if (!report.groups.empty()) {
    const auto& g = report.groups.front();
    out += fmt::format("{} {} -> {}: source {}\n", g.kind, g.from_region, g.to_region,
                       report.source_up ? "answers (positions: live committed offsets)"
                                        : "does not answer (" + report.source_detail +
                                              "); positions: stored checkpoints");
  }
  out += FailoverText(report.groups, report.now_ms);
  for (const auto& n : report.notes) out += "note: " + n + "\n";
  size_t done = 0;
  for (const auto& g : report.groups) done += g.state == FailoverState::kDone ? 1 : 0;
  out += fmt::format("{} of {} groups done\n", done, report.groups.size());
  return out;
}

StatusReport TopologyStatus(const Topology& topology, std::chrono::milliseconds timeout) {
  StatusReport report;
  report.now_ms = NowMs();
  std::map<std::string, GroupFailover> newest;
  for (size_t r = 0; r < topology.region_count(); ++r) {
    const auto& cluster = topology.PrimaryCluster(r);
    common::KafkaProperties props;
    try {
      props = ClientProps(topology, r);
    } catch (const ConfigError& e) {
      report.regions.push_back({topology.region(r).name, cluster.alias, false, -1, 0, e.what()});
      continue;
    }
    RegionHealth h = Probe(topology.region(r).name, cluster.alias, props, timeout);
    report.regions.push_back(h);
    if (!h.up) continue;
    auto recs = ReadRecords(props, cluster.alias, timeout);
    if (!recs.ok()) continue;
    for (auto& [g, rec] : *recs) {
      auto it = newest.find(g);
      if (it == newest.end() || it->second.updated_ms < rec.updated_ms) newest[g] = rec;
    }
  }
  std::set<std::string> names;
  for (const auto& g : topology.config().groups) {
    if (!g.name.empty()) names.insert(g.name);
  }
  for (const auto& [g, rec] : newest) names.insert(g);
  for (const auto& g : names) {
    GroupStatus s;
    s.group = g;
    if (auto it = newest.find(g); it != newest.end()) {
      s.record = it->second;
      s.runs_in =
          it->second.state == FailoverState::kDone ? it->second.to_region : it->second.from_region;
    }
    report.groups.push_back(std::move(s));
  }
  return report;
}

nlohmann::json ToJson(const StatusReport& report) {
  nlohmann::json regions = nlohmann::json::array();
  for (const auto& r : report.regions) {
    regions.push_back({{"region", r.region},
                       {"cluster", r.cluster},
                       {"up", r.up},
                       {"latency_ms", r.latency_ms},
                       {"brokers", r.brokers},
                       {"detail", r.detail}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : report.groups) {
    nlohmann::json j = {{"group", g.group}, {"runs_in", g.runs_in}};
    j["record"] = g.record ? ToJson(*g.record) : nlohmann::json();
    groups.push_back(std::move(j));
  }
  return {{"now_ms", report.now_ms}, {"regions", regions}, {"groups", groups}};
}

std::string StatusText(const StatusReport& report) {
  std::string out = "regions:\n";
  for (const auto& r : report.regions) {
    out += r.up ? fmt::format("  {:<12} {:<12} up   ({} brokers, metadata in {} ms)\n", r.region,
                              r.cluster, r.brokers, r.latency_ms)
                : fmt::format("  {:<12} {:<12} DOWN ({})\n", r.region, r.cluster, r.detail);
  }
  out += "groups:\n";
  for (const auto& g : report.groups) {
    if (!g.record) {
      out += fmt::format("  {:<24} no failover recorded\n", g.group);
      continue;
    }
    const auto& rec = *g.record;
    const double age_s = static_cast<double>(report.now_ms - rec.updated_ms) / 1000.0;
    out += fmt::format("  {:<24} runs in {:<10} last: {} {} {} ({:.0f} s ago){}\n", g.group,
                       g.runs_in, rec.kind, rec.direction(), ToString(rec.state), age_s,
                       rec.error.empty() ? "" : " - " + rec.error);
    if (rec.state != FailoverState::kDone) {
      out += fmt::format(
          "  {:<24} resume: regionmirror topology {} FILE --from {} --to {} "
          "--group {}\n",
          "", rec.kind, rec.from_region, rec.to_region, rec.group);
    }
  }
  return out;
}

}  // namespace rm::topology::kafka
