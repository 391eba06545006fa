#include "common/http_server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "common/result.h"
#include "testbed/control_client.h"

namespace rm::common {
namespace {

// The testbed's control client is a plain HTTP/JSON client: reuse it to talk to the server.
std::pair<int, std::string> Call(HttpServer& s, const std::string& method, const std::string& path,
                                 const std::string& body = "") {
  testbed::ControlClient client(s.address());
  auto r = client.Request(method, path, body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::make_pair(0, std::string());
}

TEST(HttpServer, BindsLoopbackByDefaultOnAFreePort) {
  HttpServer s({});
  EXPECT_NE(s.port(), 0);
  EXPECT_EQ(s.address().rfind("127.0.0.1:", 0), 0u) << s.address();
}

TEST(HttpServer, RoutesByMethodAndPathWithQuery) {
  HttpServer s({});
  s.Route("GET", "/echo", [](const HttpRequest& r) {
    return HttpResponse{200, "application/json", nlohmann::json{{"q", r.query.at("a")}}.dump()};
  });
  s.Route("POST", "/body", [](const HttpRequest& r) {
    return HttpResponse{201, "text/plain", r.body};
  });
  s.Start();
  EXPECT_EQ(Call(s, "GET", "/echo?a=x%20y").second, R"({"q":"x y"})");
  auto [code, body] = Call(s, "POST", "/body", "hello");
  EXPECT_EQ(code, 201);
  EXPECT_EQ(body, "hello");
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405) {
  HttpServer s({});
  s.Route("GET", "/x", [](const HttpRequest&) { return HttpResponse{}; });
  s.Start();
  EXPECT_EQ(Call(s, "GET", "/nope").first, 404);
  EXPECT_EQ(Call(s, "POST", "/x").first, 405);
}

TEST(HttpServer, HandlerErrorsBecomeStatusCodes) {
  HttpServer s({});
  s.Route("GET", "/teapot",
          [](const HttpRequest&) -> HttpResponse { throw HttpError(418, "tea"); });
  s.Route("GET", "/boom",
          [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  s.Start();
  auto [code, body] = Call(s, "GET", "/teapot");
  EXPECT_EQ(code, 418);
  EXPECT_EQ(body, R"({"error":"tea"})");
  EXPECT_EQ(Call(s, "GET", "/boom").first, 500);
}

TEST(HttpServer, PortAlreadyTakenIsAClearError) {
  HttpServer first({});
  try {
    HttpServer second({"127.0.0.1", first.port()});
    FAIL() << "second bind succeeded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos)
        << e.what();
  }
}

TEST(HttpServer, AdminRoutesServeHealthAndMetrics) {
  auto& counter = prometheus::BuildCounter()
                      .Name("rm_http_test_total")
                      .Help("test counter")
                      .Register(*MetricsRegistry())
                      .Add({});
  counter.Increment(3);
  std::string reason;
  HttpServer s({});
  AddAdminRoutes(s, [&reason] { return reason; });
  s.Start();
  EXPECT_EQ(Call(s, "GET", "/healthz").first, 200);
  reason = "target cluster unreachable";
  auto [code, body] = Call(s, "GET", "/healthz");
  EXPECT_EQ(code, 503);
  EXPECT_NE(body.find("target cluster unreachable"), std::string::npos);
  EXPECT_NE(Call(s, "GET", "/metrics").second.find("rm_http_test_total 3"), std::string::npos);
}

}  // namespace
}  // namespace rm::common
