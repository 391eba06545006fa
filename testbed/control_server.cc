#include "testbed/control_server.h"

#include <fmt/format.h>

namespace rm::testbed {

using common::HttpError;
using common::HttpRequest;
using common::HttpResponse;
using nlohmann::json;

namespace {

json ParseBody(const HttpRequest& req) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw HttpError(400, "malformed JSON body");
  if (!body.is_object()) throw HttpError(400, "JSON body must be an object");
  return body;
}

std::string StringField(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) throw HttpError(400, fmt::format("missing field '{}'", name));
  if (!it->is_string()) throw HttpError(400, fmt::format("field '{}' must be a string", name));
  return it->get<std::string>();
}

int64_t IntField(const json& body, const char* name, std::optional<int64_t> fallback = {}) {
  auto it = body.find(name);
  if (it == body.end()) {
    if (fallback) return *fallback;
    throw HttpError(400, fmt::format("missing field '{}'", name));
  }
  if (!it->is_number_integer()) {
    throw HttpError(400, fmt::format("field '{}' must be an integer", name));
  }
  return it->get<int64_t>();
}

int16_t ApiField(const json& body) {
  auto it = body.find("api");
  if (it == body.end()) throw HttpError(400, "missing field 'api'");
  if (it->is_number_integer()) return static_cast<int16_t>(it->get<int>());
  if (it->is_string()) {
    int16_t key = ApiKeyByName(it->get<std::string>());
    if (key < 0) throw HttpError(400, fmt::format("unknown API '{}'", it->get<std::string>()));
    return key;
  }
  throw HttpError(400, "field 'api' must be an API name or key");
}

std::vector<rd_kafka_resp_err_t> ErrorsField(const json& body) {
  auto it = body.find("errors");
  if (it == body.end() || !it->is_array()) {
    throw HttpError(400, "field 'errors' must be an array of error names or codes");
  }
  std::vector<rd_kafka_resp_err_t> out;
  for (const auto& e : *it) {
    if (e.is_number_integer()) {
      out.push_back(static_cast<rd_kafka_resp_err_t>(e.get<int>()));
    } else if (e.is_string()) {
      rd_kafka_resp_err_t code;
      if (!ErrorCodeByName(e.get<std::string>(), &code)) {
        throw HttpError(400, fmt::format("unknown error name '{}'", e.get<std::string>()));
      }
      out.push_back(code);
    } else {
      throw HttpError(400, "field 'errors' must hold error names or codes");
    }
  }
  return out;
}

HttpResponse Answer(const common::Status& st) {
  if (st.ok()) return {200, "application/json", R"({"ok":true})"};
  const std::string& code = st.error().code;
  int status = 400;
  if (code == "testbed.unknown_region" || code == "testbed.unknown_broker") status = 404;
  if (code == "TOPIC_ALREADY_EXISTS") status = 409;
  throw HttpError(status, st.error().message);
}

}  // namespace

ControlServer::ControlServer(Testbed& testbed, common::HttpServerOptions options)
    : testbed_(testbed), http_(std::move(options)) {
  http_.Route("GET", "/v1/endpoints", [this](const HttpRequest&) {
    return HttpResponse{200, "application/json", Endpoints().dump()};
  });
  http_.Route("POST", "/v1/topics", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.CreateTopic(StringField(b, "region"), StringField(b, "topic"),
                                       static_cast<int>(IntField(b, "partitions")),
                                       static_cast<int>(IntField(b, "replication_factor", 1))));
  });
  http_.Route("POST", "/v1/brokers/down", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.SetBrokerDown(StringField(b, "region"),
                                         static_cast<int32_t>(IntField(b, "broker"))));
  });
  http_.Route("POST", "/v1/brokers/up", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.SetBrokerUp(StringField(b, "region"),
                                       static_cast<int32_t>(IntField(b, "broker"))));
  });
  http_.Route("POST", "/v1/brokers/rtt", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.SetBrokerRtt(StringField(b, "region"),
                                        static_cast<int32_t>(IntField(b, "broker")),
                                        static_cast<int>(IntField(b, "rtt_ms"))));
  });
  http_.Route("POST", "/v1/errors", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(
        testbed_.PushRequestErrors(StringField(b, "region"), ApiField(b), ErrorsField(b)));
  });
  http_.Route("POST", "/v1/errors/clear", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.ClearRequestErrors(StringField(b, "region"), ApiField(b)));
  });
  http_.Route("POST", "/v1/partitions/leader", [this](const HttpRequest& req) {
    json b = ParseBody(req);
    return Answer(testbed_.SetPartitionLeader(StringField(b, "region"), StringField(b, "topic"),
                                              static_cast<int32_t>(IntField(b, "partition")),
                                              static_cast<int32_t>(IntField(b, "broker"))));
  });
  http_.Start();
}

json ControlServer::Endpoints() const {
  json j = testbed_.Describe();
  j["control"] = http_.address();
  return j;
}

}  // namespace rm::testbed
