#include "topology/health.h"

#include <fmt/format.h>

namespace rm::topology {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

HealthSnapshot::ClusterState HealthSnapshot::Cluster(const std::string& alias) const {
  auto it = clusters_.find(alias);
  return it == clusters_.end() ? ClusterState{} : it->second;
}

std::optional<HealthSnapshot::CopyState> HealthSnapshot::Copy(const std::string& alias,
                                                              const std::string& topic) const {
  auto it = copies_.find({alias, topic});
  if (it == copies_.end()) return std::nullopt;
  return it->second;
}

void HealthModel::Track(const std::string& alias, Clock::time_point now) {
  std::lock_guard lock(mu_);
  clusters_.try_emplace(alias, ClusterEntry{now});
}

void HealthModel::RecordProbe(const std::string& alias, bool ok, Clock::time_point now,
                              const std::string& error) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = clusters_.try_emplace(alias, ClusterEntry{now});
  ClusterEntry& e = it->second;
  // Probes may complete out of order; an older outcome never overrides a newer one.
  if (e.last_outcome && now < *e.last_outcome) return;
  e.last_outcome = now;
  if (ok) {
    e.last_ok = now;
    e.last_failed = false;
    e.last_error.clear();
  } else {
    e.last_failed = true;
    e.last_error = error.empty() ? "probe failed" : "probe failed: " + error;
  }
}

void HealthModel::RecordLag(const std::string& alias, const std::string& topic, milliseconds lag,
                            Clock::time_point now) {
  std::lock_guard lock(mu_);
  LagEntry& e = lags_[{alias, topic}];
  if (now >= e.at) e = {lag, now};
}

HealthSnapshot HealthModel::Snapshot(Clock::time_point now) const {
  std::lock_guard lock(mu_);
  HealthSnapshot snap;
  const milliseconds grace = 2 * options_.probe_interval;
  for (const auto& [alias, e] : clusters_) {
    HealthSnapshot::ClusterState s;
    if (e.last_failed) {
      s.up = false;
      s.why = e.last_error;
    } else {
      Clock::time_point heard = e.last_ok.value_or(e.since);
      auto silent = duration_cast<milliseconds>(now - heard);
      if (silent > grace) {
        s.up = false;
        s.why = e.last_ok ? fmt::format("no answer to probes for {} ms", silent.count())
                          : fmt::format("never answered a probe ({} ms)", silent.count());
      }
    }
    snap.SetCluster(alias, std::move(s));
  }
  for (const auto& [key, e] : lags_) {
    auto age = duration_cast<milliseconds>(now - e.at);
    milliseconds lag = age > grace ? e.lag + age : e.lag;
    snap.SetCopy(key.first, key.second, {lag.count(), lag > options_.max_lag});
  }
  return snap;
}

}  // namespace rm::topology
