#include "testbed/control_client.h"

#include <fmt/format.h>

#include <fstream>
#include "common/asio.h"

namespace rm::testbed {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using common::Error;
using common::Result;
using common::Status;
using nlohmann::json;

ControlClient::ControlClient(std::string address) {
  auto colon = address.rfind(':');
  host_ = address.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : address.substr(colon + 1);
}

Result<ControlClient> ControlClient::FromEndpointsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"testbed.endpoints", fmt::format("cannot read endpoints file {}", path)};
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("control") || !j["control"].is_string()) {
    return Error{"testbed.endpoints",
                 fmt::format("endpoints file {} has no \"control\" address", path)};
  }
  return ControlClient(j["control"].get<std::string>());
}

Result<std::pair<int, std::string>> ControlClient::Request(const std::string& method,
                                                           const std::string& path,
                                                           const std::string& body) {
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> req(http::string_to_verb(method), path, 11);
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return std::make_pair(static_cast<int>(res.result_int()), res.body());
  } catch (const std::exception& e) {
    return Error{"testbed.control",
                 fmt::format("control API {}:{} {} {}: {}", host_, port_, method, path, e.what())};
  }
}

Status ControlClient::Post(const std::string& path, const json& body) {
  auto res = Request("POST", path, body.dump());
  if (!res.ok()) return res.error();
  if (res->first == 200) return Status::Ok();
  json j = json::parse(res->second, nullptr, false);
  std::string msg =
      (!j.is_discarded() && j.contains("error")) ? j["error"].get<std::string>() : res->second;
  return Error{fmt::format("http.{}", res->first), msg};
}

Result<json> ControlClient::Endpoints() {
  auto res = Request("GET", "/v1/endpoints", "");
  if (!res.ok()) return res.error();
  json j = json::parse(res->second, nullptr, false);
  if (res->first != 200 || j.is_discarded()) {
    return Error{"testbed.control", fmt::format("endpoints: HTTP {}: {}", res->first, res->second)};
  }
  return j;
}

Result<std::string> ControlClient::BootstrapServers(const std::string& region) {
  auto j = Endpoints();
  if (!j.ok()) return j.error();
  if (!(*j)["regions"].contains(region)) {
    return Error{"testbed.unknown_region", fmt::format("unknown region '{}'", region)};
  }
  return (*j)["regions"][region]["bootstrap_servers"].get<std::string>();
}

Status ControlClient::CreateTopic(const std::string& region, const std::string& topic,
                                  int partitions, int replication_factor) {
  return Post("/v1/topics", {{"region", region},
                             {"topic", topic},
                             {"partitions", partitions},
                             {"replication_factor", replication_factor}});
}

Status ControlClient::SetBrokerDown(const std::string& region, int32_t broker) {
  return Post("/v1/brokers/down", {{"region", region}, {"broker", broker}});
}

Status ControlClient::SetBrokerUp(const std::string& region, int32_t broker) {
  return Post("/v1/brokers/up", {{"region", region}, {"broker", broker}});
}

Status ControlClient::SetBrokerRtt(const std::string& region, int32_t broker, int rtt_ms) {
  return Post("/v1/brokers/rtt", {{"region", region}, {"broker", broker}, {"rtt_ms", rtt_ms}});
}

Status ControlClient::PushRequestErrors(const std::string& region, const std::string& api,
                                        const std::vector<std::string>& errors) {
  return Post("/v1/errors", {{"region", region}, {"api", api}, {"errors", errors}});
}

Status ControlClient::SetPartitionLeader(const std::string& region, const std::string& topic,
                                         int32_t partition, int32_t broker) {
  return Post("/v1/partitions/leader",
              {{"region", region}, {"topic", topic}, {"partition", partition}, {"broker", broker}});
}

}  // namespace rm::testbed
