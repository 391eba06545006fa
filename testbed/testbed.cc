#include "testbed/testbed.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "common/asio.h"
#include "common/log.h"

namespace rm::testbed {

using common::ConfigError;
using common::Error;
using common::Result;
using common::Status;

namespace {

bool ValidRegionName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// False when `host_port` cannot be bound because another socket holds it, trying as the mock
// binds its listeners (SO_REUSEADDR, so connections left in TIME_WAIT do not count).
bool PortBindable(const std::string& host_port) {
  namespace ip = boost::asio::ip;
  const auto colon = host_port.rfind(':');
  boost::system::error_code ec;
  const auto address = ip::make_address(host_port.substr(0, colon), ec);
  if (ec || colon == std::string::npos) return true;  // cannot tell: left to the mock
  const ip::tcp::endpoint endpoint(address,
                                   static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  boost::asio::io_context io;
  ip::tcp::acceptor probe(io);
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  return ec != boost::asio::error::address_in_use;
}

Status MockStatus(rd_kafka_resp_err_t err, const std::string& what) {
  if (!err) return Status::Ok();
  return Error{rd_kafka_err2name(err), fmt::format("{}: {}", what, rd_kafka_err2str(err))};
}

}  // namespace

Region::Region(std::string name, int brokers) : name_(std::move(name)), brokers_(brokers) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "client.id", ("testbed-" + name_).c_str(), errstr, sizeof(errstr));
  // The host handle never connects anywhere; it only owns the mock cluster.
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (host_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw ConfigError(
        fmt::format("testbed region '{}': cannot create host handle: {}", name_, errstr));
  }
  cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(host_);
    throw ConfigError(fmt::format("testbed region '{}': cannot start mock cluster", name_));
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

Region::~Region() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (host_) rd_kafka_destroy(host_);
}

Testbed::Testbed(TestbedOptions options) : options_(std::move(options)) {
  std::vector<std::string> problems;
  if (options_.regions.empty()) problems.push_back("no region given");
  if (options_.brokers_per_region < 1 || options_.brokers_per_region > 32) {
    problems.push_back(
        fmt::format("brokers per region must be 1..32, got {}", options_.brokers_per_region));
  }
  std::set<std::string> seen;
  for (const auto& r : options_.regions) {
    if (!ValidRegionName(r)) {
      problems.push_back(
          fmt::format("bad region name '{}' (use lower-case letters, digits, '-', '_', '.')", r));
    } else if (!seen.insert(r).second) {
      problems.push_back(fmt::format("region '{}' given twice", r));
    }
  }
  if (!problems.empty()) {
    std::string msg = "testbed: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw ConfigError(msg);
  }
  for (const auto& r : options_.regions) {
    regions_[r] = std::make_unique<Region>(r, options_.brokers_per_region);
    RM_LOG_INFO("testbed: region {} up with {} brokers at {}", r, options_.brokers_per_region,
                regions_[r]->bootstrap_servers());
  }
}

std::vector<std::string> Testbed::RegionNames() const { return options_.regions; }

Result<Region*> Testbed::Find(const std::string& region) const {
  auto it = regions_.find(region);
  if (it != regions_.end()) return it->second.get();
  std::string known;
  for (const auto& r : options_.regions) known += (known.empty() ? "" : ", ") + r;
  return Error{"testbed.unknown_region",
               fmt::format("unknown region '{}' (known: {})", region, known)};
}

Status Testbed::CheckBroker(const Region& r, int32_t broker) const {
  if (broker >= 1 && broker <= r.broker_count()) return Status::Ok();
  return Error{"testbed.unknown_broker",
               fmt::format("region '{}' has no broker {} (brokers are 1..{})", r.name(), broker,
                           r.broker_count())};
}

Result<std::string> Testbed::BootstrapServers(const std::string& region) const {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  return (*r)->bootstrap_servers();
}

Status Testbed::CreateTopic(const std::string& region, const std::string& topic, int partitions,
                            int replication_factor) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (topic.empty() || topic.size() > 249) {
    return Error{"testbed.bad_topic", fmt::format("bad topic name '{}'", topic)};
  }
  if (partitions < 1 || partitions > 10000) {
    return Error{"testbed.bad_partitions",
                 fmt::format("topic '{}': partitions must be 1..10000, got {}", topic, partitions)};
  }
  if (replication_factor < 1 || replication_factor > (*r)->broker_count()) {
    return Error{"testbed.bad_replication_factor",
                 fmt::format("topic '{}': replication factor must be 1..{}, got {}", topic,
                             (*r)->broker_count(), replication_factor)};
  }
  return MockStatus(
      rd_kafka_mock_topic_create((*r)->cluster(), topic.c_str(), partitions, replication_factor),
      fmt::format("create topic '{}' in region '{}'", topic, region));
}

Status Testbed::SetBrokerDown(const std::string& region, int32_t broker) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (auto st = CheckBroker(**r, broker); !st.ok()) return st;
  Region& reg = **r;
  std::lock_guard lock(reg.fault_mutex());
  const int rtt_ms = reg.rtt_ms(broker);
  // The mock's Produce handler appends at once and queues the response, which waits out the
  // RTT (or just the next turn of the mock's poll loop); set down drops whatever is queued.
  // The client then retries with the same sequence numbers, and the mock, which checks them
  // only for transactional producers (rdkafka_mock.c, rd_kafka_mock_validate_records in
  // 2.0.2), appends the records again. Setting the RTT makes the mock write out every queued
  // response that is due under the new RTT (rd_kafka_mock_broker_connections_write_out), so
  // with 0 all of them go before the close. A produce read between the two commands can still
  // lose its response (microseconds; documented in docs/architecture.md).
  if (auto st = MockStatus(rd_kafka_mock_broker_set_rtt(reg.cluster(), broker, 0),
                           fmt::format("broker {} of '{}' down: flush", broker, region));
      !st.ok()) {
    return st;
  }
  auto down = MockStatus(rd_kafka_mock_broker_set_down(reg.cluster(), broker),
                         fmt::format("broker {} of '{}' down", broker, region));
  if (rtt_ms > 0) {
    // The RTT fault outlives the outage, as it would on a real link.
    auto restored = MockStatus(rd_kafka_mock_broker_set_rtt(reg.cluster(), broker, rtt_ms),
                               fmt::format("rtt of broker {} of '{}'", broker, region));
    if (down.ok()) return restored;
  }
  return down;
}

Status Testbed::SetBrokerUp(const std::string& region, int32_t broker) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (auto st = CheckBroker(**r, broker); !st.ok()) return st;
  // The mock binds the broker's port again, and librdkafka 2.0.2 aborts the whole process (an
  // assert in its mock thread) when that fails. While the broker was down, any socket on the
  // machine may have taken the port (an outgoing connection's ephemeral port, or a client
  // reconnecting to the down broker that connected to itself): seen in the fault schedule
  // tests. Such sockets are short-lived, so wait for the port rather than abort.
  std::string address;
  {
    std::istringstream list((*r)->bootstrap_servers());  // in broker id order
    for (int32_t id = 1; id <= broker && std::getline(list, address, ',');) ++id;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool waited = false;
  while (!PortBindable(address)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Error{"testbed.port_busy",
                   fmt::format("broker {} of '{}' up: its port {} is still taken by another "
                               "socket after 10 s",
                               broker, region, address)};
    }
    if (!waited) {
      RM_LOG_WARN("testbed: broker {} of '{}': port {} taken by another socket; waiting", broker,
                  region, address);
    }
    waited = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return MockStatus(rd_kafka_mock_broker_set_up((*r)->cluster(), broker),
                    fmt::format("broker {} of '{}' up", broker, region));
}

Status Testbed::SetBrokerRtt(const std::string& region, int32_t broker, int rtt_ms) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (auto st = CheckBroker(**r, broker); !st.ok()) return st;
  if (rtt_ms < 0 || rtt_ms > 60000) {
    return Error{"testbed.bad_rtt", fmt::format("rtt_ms must be 0..60000, got {}", rtt_ms)};
  }
  Region& reg = **r;
  std::lock_guard lock(reg.fault_mutex());
  auto st = MockStatus(rd_kafka_mock_broker_set_rtt(reg.cluster(), broker, rtt_ms),
                       fmt::format("rtt of broker {} of '{}'", broker, region));
  if (st.ok()) reg.rtt_ms(broker) = rtt_ms;
  return st;
}

Status Testbed::PushRequestErrors(const std::string& region, int16_t api_key,
                                  const std::vector<rd_kafka_resp_err_t>& errors) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (api_key < 0 || api_key > 100) {
    return Error{"testbed.bad_api_key", fmt::format("unknown API key {}", api_key)};
  }
  rd_kafka_mock_push_request_errors_array((*r)->cluster(), api_key, errors.size(), errors.data());
  return Status::Ok();
}

Status Testbed::ClearRequestErrors(const std::string& region, int16_t api_key) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  rd_kafka_mock_clear_request_errors((*r)->cluster(), api_key);
  return Status::Ok();
}

Status Testbed::SetPartitionLeader(const std::string& region, const std::string& topic,
                                   int32_t partition, int32_t broker) {
  auto r = Find(region);
  if (!r.ok()) return r.error();
  if (auto st = CheckBroker(**r, broker); !st.ok()) return st;
  return MockStatus(
      rd_kafka_mock_partition_set_leader((*r)->cluster(), topic.c_str(), partition, broker),
      fmt::format("leader of {}[{}] in '{}'", topic, partition, region));
}

nlohmann::json Testbed::Describe() const {
  nlohmann::json regions = nlohmann::json::object();
  for (const auto& name : options_.regions) {
    const auto& r = regions_.at(name);
    regions[name] = {{"bootstrap_servers", r->bootstrap_servers()}, {"brokers", r->broker_count()}};
  }
  return {{"regions", regions}};
}

int16_t ApiKeyByName(const std::string& name) {
  static const std::map<std::string, int16_t> kKeys = {
      {"Produce", 0},          {"Fetch", 1},
      {"ListOffsets", 2},      {"Metadata", 3},
      {"OffsetCommit", 8},     {"OffsetFetch", 9},
      {"FindCoordinator", 10}, {"JoinGroup", 11},
      {"Heartbeat", 12},       {"LeaveGroup", 13},
      {"SyncGroup", 14},       {"ApiVersions", 18},
      {"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
      {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
      {"TxnOffsetCommit", 28}};
  auto it = kKeys.find(name);
  return it == kKeys.end() ? -1 : it->second;
}

bool ErrorCodeByName(const std::string& name, rd_kafka_resp_err_t* out) {
  const rd_kafka_err_desc* descs = nullptr;
  size_t cnt = 0;
  rd_kafka_get_err_descs(&descs, &cnt);
  for (size_t i = 0; i < cnt; ++i) {
    if (descs[i].name && name == descs[i].name) {
      *out = descs[i].code;
      return true;
    }
  }
  return false;
}

}  // namespace rm::testbed
