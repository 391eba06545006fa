// A small blocking client for the testbed's control API (control_server.h), for tests and
// tools that drive a testbed running in another process.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace rm::testbed {

class ControlClient {
 public:
  // `address` is "host:port" as the endpoints file's "control" field gives it.
  explicit ControlClient(std::string address);
  // Reads the endpoints file written by `regionmirror testbed --endpoints F`.
  static common::Result<ControlClient> FromEndpointsFile(const std::string& path);

  common::Result<nlohmann::json> Endpoints();
  common::Result<std::string> BootstrapServers(const std::string& region);
  common::Status CreateTopic(const std::string& region, const std::string& topic, int partitions,
                             int replication_factor = 1);
  common::Status SetBrokerDown(const std::string& region, int32_t broker);
  common::Status SetBrokerUp(const std::string& region, int32_t broker);
  common::Status SetBrokerRtt(const std::string& region, int32_t broker, int rtt_ms);
  common::Status PushRequestErrors(const std::string& region, const std::string& api,
                                   const std::vector<std::string>& errors);
  common::Status SetPartitionLeader(const std::string& region, const std::string& topic,
                                    int32_t partition, int32_t broker);

  // A raw request; answers status code and body (for tests of the API's error handling).
  common::Result<std::pair<int, std::string>> Request(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body);

 private:
  common::Status Post(const std::string& path, const nlohmann::json& body);
  std::string host_;
  std::string port_;
};

}  // namespace rm::testbed
