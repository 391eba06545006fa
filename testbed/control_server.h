// The testbed's control API: HTTP JSON on loopback, so tests and scripts in any language can
// create topics and inject faults. Routes (all POST bodies are JSON objects):
//   GET  /v1/endpoints             the regions' bootstrap servers (and this address)
//   POST /v1/topics                {"region","topic","partitions"[,"replication_factor"]}
//   POST /v1/brokers/down          {"region","broker"}
//   POST /v1/brokers/up            {"region","broker"}
//   POST /v1/brokers/rtt           {"region","broker","rtt_ms"}
//   POST /v1/errors                {"region","api" (name or key),"errors":[name or code,...]}
//   POST /v1/errors/clear          {"region","api"}
//   POST /v1/partitions/leader     {"region","topic","partition","broker"}
// Errors answer 400 (bad request: missing field, malformed JSON), 404 (unknown region or
// broker) or 409 (e.g. topic exists) with {"error": "..."}.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "common/http_server.h"
#include "testbed/testbed.h"

namespace rm::testbed {

class ControlServer {
 public:
  // Binds (ConfigError if the address is taken) and starts serving `testbed`, which must
  // outlive this object.
  ControlServer(Testbed& testbed, common::HttpServerOptions options);

  std::string address() const { return http_.address(); }
  // Describe() plus {"control": address()}: the endpoints file's content.
  nlohmann::json Endpoints() const;

 private:
  Testbed& testbed_;
  common::HttpServer http_;
};

}  // namespace rm::testbed
