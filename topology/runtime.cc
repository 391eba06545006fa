#include "topology/runtime.h"

#include <fmt/format.h>

#include "common/log.h"

namespace rm::topology {

namespace {

HealthOptions OptionsOf(const Topology& t) {
  return {std::chrono::milliseconds(t.config().health.probe_interval_ms),
          std::chrono::milliseconds(t.config().health.max_lag_ms)};
}

// The region holding the cluster `alias`, if any.
std::optional<std::string> RegionOfCluster(const Topology& t, const std::string& alias) {
  for (size_t i = 0; i < t.region_count(); ++i) {
    for (const auto& c : t.region(i).clusters) {
      if (c.alias == alias) return t.region(i).name;
    }
  }
  return std::nullopt;
}

}  // namespace

// One flow's view: residency for its target region, lag of copies on its target cluster.
class TopologyRuntime::Placement : public replication::FlowPlacement {
 public:
  Placement(std::shared_ptr<const ResidencyGuard> guard, HealthModel& health, std::string region,
            std::string target_alias, std::chrono::milliseconds interval)
      : guard_(std::move(guard)),
        health_(health),
        region_(std::move(region)),
        target_alias_(std::move(target_alias)),
        interval_(interval) {}

  std::optional<std::string> Refusal(const std::string& source_topic) const override {
    if (guard_->MayHold(source_topic, region_).allowed) return std::nullopt;
    return guard_->Explain(source_topic, region_);
  }
  void OnCopyLag(const std::string& target_topic, std::chrono::milliseconds lag) override {
    health_.RecordLag(target_alias_, target_topic, lag, Clock::now());
  }
  std::chrono::milliseconds LagReportInterval() const override { return interval_; }

 private:
  std::shared_ptr<const ResidencyGuard> guard_;
  HealthModel& health_;
  const std::string region_;
  const std::string target_alias_;
  const std::chrono::milliseconds interval_;
};

TopologyRuntime::TopologyRuntime(std::shared_ptr<const Topology> topology, ProbeFactory probes)
    : topology_(std::move(topology)),
      guard_(std::make_shared<ResidencyGuard>(topology_)),
      health_(OptionsOf(*topology_)) {
  const auto interval = std::chrono::milliseconds(topology_->config().health.probe_interval_ms);
  if (!probes) {
    probes = [this, interval](const ClusterSpec& c) {
      return MakeKafkaProbe(c.WithSecrets(topology_->config().file).ClientProperties(), c.alias,
                            interval);
    };
  }
  std::vector<ClusterProber::Target> targets;
  for (size_t i = 0; i < topology_->region_count(); ++i) {
    for (const auto& c : topology_->region(i).clusters) targets.push_back({c.alias, probes(c)});
  }
  prober_ = std::make_unique<ClusterProber>(health_, interval, std::move(targets));
}

TopologyRuntime::~TopologyRuntime() { Stop(); }

void TopologyRuntime::Attach(replication::MirrorConfig& config, const std::string& file) {
  // Half the probe interval: a lag report is then never older than two probe intervals when
  // read (HealthModel ages older ones), however the two clocks fall.
  const auto interval = std::chrono::milliseconds(
      std::max<int64_t>(100, topology_->config().health.probe_interval_ms / 2));
  for (auto& flow : config.flows) {
    auto region = RegionOfCluster(*topology_, flow.target);
    if (!region) {
      throw common::ConfigError(fmt::format(
          "{}: flow {}: target cluster '{}' is no cluster of the topology {}, so residency "
          "cannot be checked for it",
          file, flow.name(), flow.target, topology_->config().file));
    }
    flow.placement = std::make_shared<Placement>(guard_, health_, *region, flow.target, interval);
  }
}

common::Result<Route> TopologyRuntime::Resolve(const ReadRequest& request) const {
  return topology::Resolve(*topology_, request, health_.Snapshot(Clock::now()));
}

void TopologyRuntime::InstallRoutes(common::HttpServer& server) {
  server.Route("GET", "/topology/route", [this](const common::HttpRequest& req) {
    for (const auto& [key, value] : req.query) {
      if (key != "topic" && key != "region" && key != "zone") {
        throw common::HttpError(
            400, fmt::format("unknown parameter '{}' (known: topic, region, zone)", key));
      }
    }
    auto param = [&req](const char* name) {
      auto it = req.query.find(name);
      return it == req.query.end() ? std::string() : it->second;
    };
    ReadRequest request{param("topic"), param("region"), param("zone")};
    if (request.topic.empty()) throw common::HttpError(400, "parameter 'topic' is required");
    if (request.region.empty()) throw common::HttpError(400, "parameter 'region' is required");
    auto route = Resolve(request);
    // Unknown region or no rule for the topic: nothing to route to.
    if (!route.ok()) throw common::HttpError(404, route.error().message);
    return common::HttpResponse{
        200, "application/json",
        ToJson(*route).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  });
}

void TopologyRuntime::Start() { prober_->Start(); }

void TopologyRuntime::Stop() {
  if (prober_) prober_->Stop();
}

}  // namespace rm::topology
