#include "mirror/mirror.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/metrics.h"

namespace rm::mirror {

using namespace std::chrono_literals;

Mirror::Mirror(replication::MirrorConfig config, SinkFactory sinks)
    : config_(std::move(config)), sinks_(std::move(sinks)) {
  for (const auto& w : config_.warnings) RM_LOG_WARN("{}", w);
}

std::string Mirror::Health() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (size_t i = 0; i < flows_.size(); ++i) {
    std::string h = flows_[i] ? flows_[i]->Health() : flow_errors_[i];
    if (!h.empty()) out += (out.empty() ? "" : "; ") + h;
  }
  return out;
}

void Mirror::RunFlow(size_t index, const std::atomic<bool>& stop) {
  const replication::FlowConfig& fc =
      *std::find_if(config_.flows.begin(), config_.flows.end(),
                    [&, n = size_t{0}](const replication::FlowConfig& f) mutable {
                      return f.enabled && n++ == index;
                    });
  auto backoff = 1s;
  // Records the target refused, per source partition: the next Flow never resumes above them.
  RefusedOffsets refused;
  while (!stop.load()) {
    common::Status st;
    const auto started = std::chrono::steady_clock::now();
    try {
      Flow* flow;
      {
        std::lock_guard<std::mutex> lock(mu_);
        FlowOffsets attached = sinks_ ? sinks_(fc) : FlowOffsets{};
        flows_[index] =
            std::make_unique<Flow>(config_, fc, attached.sink, *common::MetricsRegistry(),
                                   attached.hooks, std::move(refused));
        flow = flows_[index].get();
        flow_errors_[index].clear();
      }
      st = flow->Run(stop);
    } catch (const std::exception& e) {
      st = common::Error{"mirror.flow", fmt::format("flow {}: {}", fc.name(), e.what())};
    }
    if (st.ok() || stop.load()) break;
    // A flow that ran well for a while before failing starts again at the shortest backoff.
    if (std::chrono::steady_clock::now() - started > 5min) backoff = 1s;
    RM_LOG_ERROR("{}; restarting the flow in {} s", st.error().message, backoff.count());
    std::unique_ptr<Flow> failed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      failed = std::move(flows_[index]);
      flow_errors_[index] = st.error().message;
    }
    // Destroyed outside the lock: /healthz must answer while its clients close.
    refused = failed ? failed->Refused() : RefusedOffsets{};
    failed.reset();
    for (auto waited = 0ms; waited < backoff && !stop.load(); waited += 100ms) {
      std::this_thread::sleep_for(100ms);
    }
    backoff = std::min(backoff * 2, std::chrono::seconds(30));
  }
}

int Mirror::Run(const std::atomic<bool>& stop) {
  size_t n = 0;
  for (const auto& f : config_.flows) n += f.enabled ? 1 : 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    flows_.resize(n);
    flow_errors_.assign(n, "");
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) threads.emplace_back([this, i, &stop] { RunFlow(i, stop); });
  for (auto& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    flows_.clear();
  }
  return 0;
}

}  // namespace rm::mirror
