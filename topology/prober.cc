#include "topology/prober.h"

#include <fmt/format.h>

#include "common/kafka_admin.h"
#include "common/log.h"

namespace rm::topology {

ProbeFunction MakeKafkaProbe(const common::KafkaProperties& properties, const std::string& alias,
                             std::chrono::milliseconds interval) {
  common::KafkaProperties props = properties;
  props["client.id"] = "regionmirror-probe-" + alias;
  // A cluster that comes back must answer the next probe: librdkafka's default reconnect
  // backoff grows to 10 s.
  const auto backoff = std::max<int64_t>(100, interval.count());
  props["reconnect.backoff.ms"] = std::to_string(std::min<int64_t>(100, backoff));
  props["reconnect.backoff.max.ms"] = std::to_string(backoff);
  props["socket.connection.setup.timeout.ms"] = std::to_string(std::max<int64_t>(1000, backoff));
  // The handle is made here so bad properties fail at startup, not in the first probe.
  auto client = std::make_shared<common::AdminClient>(props, "probe " + alias);
  return [client](std::chrono::milliseconds timeout) -> common::Status {
    const rd_kafka_metadata_t* md = nullptr;
    // No topic named and not all topics: the brokers only, whatever the cluster holds.
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(client->handle(), 0, nullptr, &md, static_cast<int>(timeout.count()));
    rd_kafka_poll(client->handle(), 0);  // serve queued error events; nothing else is polled
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return common::Error{"topology.probe", rd_kafka_err2str(err)};
    }
    const bool brokers = md->broker_cnt > 0;
    rd_kafka_metadata_destroy(md);
    if (!brokers) return common::Error{"topology.probe", "metadata lists no broker"};
    return common::Status::Ok();
  };
}

ClusterProber::ClusterProber(HealthModel& health, std::chrono::milliseconds interval,
                             std::vector<Target> targets)
    : health_(health), interval_(interval), targets_(std::move(targets)) {}

ClusterProber::~ClusterProber() { Stop(); }

std::chrono::milliseconds ClusterProber::probe_timeout() const {
  return std::max(std::chrono::milliseconds(1), interval_ / 2);
}

void ClusterProber::Start() {
  const auto now = Clock::now();
  for (const auto& t : targets_) health_.Track(t.alias, now);
  for (const auto& t : targets_) threads_.emplace_back([this, &t] { Loop(t); });
}

void ClusterProber::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void ClusterProber::Loop(const Target& target) {
  bool was_ok = true;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    const auto started = Clock::now();
    common::Status st = target.probe(probe_timeout());
    const auto done = Clock::now();
    health_.RecordProbe(target.alias, st.ok(), done, st.ok() ? "" : st.error().message);
    ++probes_;
    // Changes only: a dead cluster is not news every second.
    if (!st.ok() && was_ok) {
      RM_LOG_WARN("cluster {} failed its health probe: {}; demoted for reads", target.alias,
                  st.error().message);
    } else if (st.ok() && !was_ok) {
      RM_LOG_INFO("cluster {} answers health probes again", target.alias);
    }
    was_ok = st.ok();
    lock.lock();
    cv_.wait_until(lock, started + interval_, [this] { return stop_; });
  }
}

}  // namespace rm::topology
