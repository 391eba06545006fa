// What `regionmirror run --topology` adds to the mirror: residency enforced in every flow's
// data path, the cluster prober and the copies' lag feeding one HealthModel, and the
// GET /topology/route admin endpoint that answers from it.
//
// Lifecycle: construct (throws ConfigError for probe client settings librdkafka refuses),
// Attach() the mirror's configuration, InstallRoutes() on its admin server, Start() (probes
// begin), Stop() or destroy. The placements set by Attach() keep pointers into the runtime:
// it must outlive the mirror that uses them.
//
// Threading: Attach/InstallRoutes/Start/Stop from the owner's thread; the placements (any flow
// thread), the route (the admin server's IO thread) and Route() may run concurrently.
#pragma once

#include <memory>
#include <string>

#include "common/http_server.h"
#include "common/result.h"
#include "replication/config.h"
#include "topology/health.h"
#include "topology/prober.h"
#include "topology/residency.h"
#include "topology/router.h"
#include "topology/topology.h"

namespace rm::topology {

class TopologyRuntime {
 public:
  // Makes the probe of a cluster; the default opens a librdkafka client (MakeKafkaProbe).
  using ProbeFactory = std::function<ProbeFunction(const ClusterSpec& cluster)>;

  explicit TopologyRuntime(std::shared_ptr<const Topology> topology, ProbeFactory probes = nullptr);
  ~TopologyRuntime();

  // Sets FlowConfig::placement on every flow of `config`: residency decided for the region of
  // the flow's target cluster (ResidencyGuard::MayHold), copy lag reported into health(). A
  // flow whose target is no cluster of the topology is a ConfigError naming `file` and the
  // flow: residency cannot be decided for it, so it may not run.
  void Attach(replication::MirrorConfig& config, const std::string& file);
  // GET /topology/route?topic=T&region=R[&zone=Z]: the answer of `topology resolve --json`,
  // with the current health. In memory only, so it runs on the IO thread like /healthz.
  void InstallRoutes(common::HttpServer& server);
  // Starts probing every cluster of the topology every health.probe_interval_ms.
  void Start();
  void Stop();

  // Where a client reads, with the health as of now.
  common::Result<topology::Route> Resolve(const ReadRequest& request) const;
  HealthModel& health() { return health_; }
  const Topology& topology() const { return *topology_; }

 private:
  class Placement;

  std::shared_ptr<const Topology> topology_;
  std::shared_ptr<const ResidencyGuard> guard_;
  HealthModel health_;
  std::unique_ptr<ClusterProber> prober_;
};

}  // namespace rm::topology
