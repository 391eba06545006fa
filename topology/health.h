// Health of clusters and of topic copies, for read routing.
//
// Fed by two sources: a prober that round-trips metadata with each cluster every probe
// interval (RecordProbe), and the mirror, which reports each copy's replication lag
// (RecordLag). Read routing never sees the model itself, only immutable snapshots.
//
// The rule (issue 13: Kafka's follower fetching kept a dead replica for up to 5 minutes; we
// must not):
//   - a cluster is demoted as soon as a probe fails, and when no probe has succeeded for two
//     probe intervals (a probe that hangs), counted from Track() for one never answered;
//   - a copy is demoted when its lag exceeds max_lag; a lag report older than two probe
//     intervals is taken as lag + its age (the copy may have fallen that far behind since);
//   - both are promoted back by the first probe (or lag report) that says healthy again.
// Time is passed in, never read, so the rule is unit-tested with injected time.
//
// Thread-safe: probers, the mirror and readers may call from any threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace rm::topology {

using Clock = std::chrono::steady_clock;

struct HealthOptions {
  // Default: 1000 ms
  std::chrono::milliseconds probe_interval{1000};
  // Default: 30000 ms
  std::chrono::milliseconds max_lag{30000};
};

// The state of everything at one instant. Clusters and copies never heard of are healthy with
// unknown lag: without probes (e.g. `topology resolve` from the command line) nothing is
// demoted.
class HealthSnapshot {
 public:
  struct ClusterState {
    bool up = true;
    // Why it is down ("probe failed: ..." / "no answer to probes for 2400 ms"); "" when up.
    std::string why;
  };
  struct CopyState {
    int64_t lag_ms = 0;
    // lag_ms > max_lag
    bool too_far = false;
  };

  // Empty: every cluster up, every lag unknown.
  HealthSnapshot() = default;

  ClusterState Cluster(const std::string& alias) const;
  // Lag of `topic` (its name there) on cluster `alias`; nullopt when never reported.
  std::optional<CopyState> Copy(const std::string& alias, const std::string& topic) const;

  // For HealthModel and tests.
  void SetCluster(const std::string& alias, ClusterState state) {
    clusters_[alias] = std::move(state);
  }
  void SetCopy(const std::string& alias, const std::string& topic, CopyState state) {
    copies_[{alias, topic}] = state;
  }

 private:
  std::map<std::string, ClusterState> clusters_;
  std::map<std::pair<std::string, std::string>, CopyState> copies_;
};

class HealthModel {
 public:
  explicit HealthModel(HealthOptions options) : options_(options) {}

  // Starts watching `alias` at `now`: from then on it must answer probes to stay up.
  void Track(const std::string& alias, Clock::time_point now);
  // The outcome of one probe of `alias` at `now` (`error` says why it failed).
  void RecordProbe(const std::string& alias, bool ok, Clock::time_point now,
                   const std::string& error = "");
  // The replication lag of `topic` (name in the cluster `alias`) measured at `now`.
  void RecordLag(const std::string& alias, const std::string& topic, std::chrono::milliseconds lag,
                 Clock::time_point now);
  HealthSnapshot Snapshot(Clock::time_point now) const;

 private:
  struct ClusterEntry {
    Clock::time_point since;  // Track() time
    std::optional<Clock::time_point> last_ok;
    // When the newest recorded outcome was measured.
    std::optional<Clock::time_point> last_outcome;
    bool last_failed = false;
    std::string last_error;
  };
  struct LagEntry {
    std::chrono::milliseconds lag{0};
    Clock::time_point at;
  };

  const HealthOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, ClusterEntry> clusters_;
  std::map<std::pair<std::string, std::string>, LagEntry> lags_;
};

}  // namespace rm::topology
