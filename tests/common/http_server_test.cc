#include "common/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/metrics.h"
#include "common/result.h"
#include "testbed/control_client.h"
#include "tests/util/raw_http.h"

namespace rm::common {
namespace {

using namespace std::chrono_literals;
using testing::Get;
using testing::RawAnswer;
using testing::RawConnection;
using testing::RawRequest;

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

// ---- Robustness: what a client sends must never stop the server (issue 15). ----

// The "error" text of a JSON error body, or "" when the body is not one.
std::string ErrorText(const RawAnswer& a) {
  auto j = nlohmann::json::parse(a.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_string()) {
    return "";
  }
  return j["error"].get<std::string>();
}

// A server with /healthz and the options of the test, started.
std::unique_ptr<HttpServer> Serve(HttpServerOptions options = {}) {
  auto s = std::make_unique<HttpServer>(std::move(options));
  s->Route("GET", "/healthz", [](const HttpRequest&) {
    return HttpResponse{200, "application/json", "{}"};
  });
  return s;
}

void ExpectHealthy(HttpServer& s) {
  auto a = RawRequest(s.address(), Get("/healthz"));
  EXPECT_EQ(a.status, 200) << a.error << a.body;
}

// The value of rm_http_refused_total{reason=...} in the process registry (0 if absent).
double Refused(const std::string& reason) {
  for (const auto& family : MetricsRegistry()->Collect()) {
    if (family.name != "rm_http_refused_total") continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == "reason" && l.value == reason) return m.counter.value;
      }
    }
  }
  return 0;
}

TEST(HttpServerRobustness, BadPercentEncodingIs400AndTheServerStillAnswers) {
  // Given a server (before the fix, "%zz" threw out of std::stoi and aborted the process)
  auto s = Serve();
  s->Start();
  const double malformed_before = Refused("malformed");
  for (const std::string target :
       {"/healthz?%zz", "/healthz?a=%", "/healthz?a=%4", "/heal%zzthz"}) {
    // When a query or path holds a malformed percent-encoding
    auto a = RawRequest(s->address(), Get(target));
    // Then it is answered 400 with a JSON error naming the problem
    EXPECT_EQ(a.status, 400) << target << ": " << a.error << a.body;
    EXPECT_NE(ErrorText(a).find("bad percent-encoding"), std::string::npos) << a.body;
  }
  // And each refusal is counted, and the server goes on serving
  EXPECT_EQ(Refused("malformed") - malformed_before, 4);
  ExpectHealthy(*s);
}

TEST(HttpServerRobustness, EncodedNulAndFragmentAre400) {
  auto s = Serve();
  s->Start();
  auto a = RawRequest(s->address(), Get("/healthz?a=x%00y"));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(ErrorText(a).find("%00"), std::string::npos) << a.body;
  a = RawRequest(s->address(), Get("/healthz#top"));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(ErrorText(a).find("fragment"), std::string::npos) << a.body;
  ExpectHealthy(*s);
}

TEST(HttpServerRobustness, QueryIsDecodedByRfc3986Rules) {
  HttpServer s({});
  s.Route("GET", "/echo", [](const HttpRequest& r) {
    return HttpResponse{200, "application/json", nlohmann::json(r.query).dump()};
  });
  s.Start();
  auto a = RawRequest(s.address(), Get("/echo?a=x%2By+z&b&=e&c=%C3%A9&a=last"));
  ASSERT_EQ(a.status, 200) << a.error << a.body;
  EXPECT_EQ(nlohmann::json::parse(a.body),
            (nlohmann::json{{"a", "last"}, {"b", ""}, {"", "e"}, {"c", "\xc3\xa9"}}));
}

TEST(HttpServerRobustness, MalformedRequestLineHeaderAndMethodAre400) {
  auto s = Serve();
  s->Start();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"request line", "GARBAGE\r\n\r\n"},
      {"version", "GET /healthz HTTP/x.y\r\n\r\n"},
      {"method", "G(T /healthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"target", "GET healthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"header without colon", "GET /healthz HTTP/1.1\r\nHost t\r\n\r\n"},
      {"bad content length", "POST /healthz HTTP/1.1\r\nContent-Length: x\r\n\r\n"},
      {"bad chunk", "POST /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
  };
  for (const auto& [what, bytes] : cases) {
    // When the request is malformed
    auto a = RawRequest(s->address(), bytes);
    // Then it gets 400 with a JSON error saying so
    EXPECT_EQ(a.status, 400) << what << ": " << a.error << a.body;
    EXPECT_FALSE(ErrorText(a).empty()) << what << ": " << a.body;
  }
  // And the server still serves
  ExpectHealthy(*s);
}

TEST(HttpServerRobustness, UnknownButWellFormedMethodIs405) {
  auto s = Serve();
  s->Start();
  auto a = RawRequest(s->address(), "BREW /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(a.status, 405) << a.body;
  EXPECT_NE(ErrorText(a).find("BREW"), std::string::npos) << a.body;
}

TEST(HttpServerRobustness, OversizedHeaderIs431BodyIs413TargetIs414) {
  HttpServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 16;
  o.max_target_bytes = 64;
  auto s = Serve(o);
  s->Route("POST", "/body", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.body};
  });
  s->Start();
  // Header over max_header_bytes
  auto a = RawRequest(s->address(),
                      "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n");
  EXPECT_EQ(a.status, 431) << a.error << a.body;
  EXPECT_NE(ErrorText(a).find("1024"), std::string::npos) << a.body;
  // Body over max_body_bytes, announced by Content-Length and sent
  a = RawRequest(s->address(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 4000\r\n\r\n" +
                                   std::string(4000, 'b'));
  EXPECT_EQ(a.status, 413) << a.error << a.body;
  // Body over max_body_bytes, chunked
  a = RawRequest(s->address(),
                 "POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "20\r\n" +
                     std::string(32, 'c') + "\r\n0\r\n\r\n");
  EXPECT_EQ(a.status, 413) << a.error << a.body;
  // Target over max_target_bytes
  a = RawRequest(s->address(), Get("/healthz?x=" + std::string(100, 'x')));
  EXPECT_EQ(a.status, 414) << a.error << a.body;
  // A body within the limit is served, and so is everyone after the refusals
  a = RawRequest(s->address(), "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "hello");
  ExpectHealthy(*s);
}

TEST(HttpServerRobustness, SlowClientIsCutOffAfterTheReadTimeoutWhileOthersAreServed) {
  // Given a server whose read timeout is short and idle timeout long
  HttpServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 60s;
  auto s = Serve(o);
  s->Start();
  // When a client sends a request one byte at a time, never finishing it
  RawConnection slow(s->address());
  ASSERT_TRUE(slow.connected());
  const auto start = std::chrono::steady_clock::now();
  std::atomic<bool> trickling{true};
  std::promise<std::chrono::steady_clock::duration> cut_off;
  std::thread trickle([&] {
    std::string request = "GET /healthz HTTP/1.1\r\nX-Slow: ";
    for (size_t i = 0; trickling; ++i) {
      if (!slow.Send(std::string(1, i < request.size() ? request[i] : 'a'))) break;
      // Pacing of the slow client (one byte per 20 ms), not synchronisation: the loop ends as
      // soon as the server closes the connection.
      if (slow.ClosedWithin(20ms)) break;
    }
    cut_off.set_value(std::chrono::steady_clock::now() - start);
  });
  // Then another client is served meanwhile
  ExpectHealthy(*s);
  // And the slow one is disconnected, not before the read timeout (and long before the idle one)
  auto done = cut_off.get_future();
  bool cut = done.wait_for(20s) == std::future_status::ready;
  trickling = false;
  trickle.join();
  ASSERT_TRUE(cut) << "the slow client was never disconnected";
  EXPECT_GE(done.get(), o.read_timeout);
  ExpectHealthy(*s);
}

TEST(HttpServerRobustness, IdleConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions o;
  o.idle_timeout = 200ms;
  auto s = Serve(o);
  s->Start();
  // Given a keep-alive connection that was served once
  RawConnection c(s->address());
  ASSERT_TRUE(c.Send(Get("/healthz")));
  EXPECT_EQ(c.Read(5s).status, 200);
  // When it then says nothing, the server closes it
  EXPECT_TRUE(c.WaitClosed(20s));
}

TEST(HttpServerRobustness, ConnectionsBeyondTheCapAre503UntilOneCloses) {
  // Given a server capped at two connections, both held open (served once, kept alive)
  HttpServerOptions o;
  o.max_connections = 2;
  auto s = Serve(o);
  s->Start();
  auto held = std::make_unique<RawConnection>(s->address());
  RawConnection other(s->address());
  for (RawConnection* c : {held.get(), &other}) {
    ASSERT_TRUE(c->Send(Get("/healthz")));
    ASSERT_EQ(c->Read(5s).status, 200);
  }
  // When a third connects, it is answered 503 and closed
  auto a = RawRequest(s->address(), Get("/healthz"));
  EXPECT_EQ(a.status, 503) << a.error << a.body;
  EXPECT_NE(ErrorText(a).find("too many connections"), std::string::npos) << a.body;
  // Then once a held connection closes, new ones are served again (the server notices the close
  // asynchronously: retry until it has)
  held.reset();
  RawAnswer after;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline;) {
    after = RawRequest(s->address(), Get("/healthz"));
    if (after.status == 200) break;
  }
  EXPECT_EQ(after.status, 200) << after.error << after.body;
  // And the other held connection is still served
  ASSERT_TRUE(other.Send(Get("/healthz")));
  EXPECT_EQ(other.Read(5s).status, 200);
}

// A handler that blocks until released, telling when it started.
struct Gate {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};

  HttpHandler Handler() {
    return [this](const HttpRequest&) {
      if (calls++ == 0) started.set_value();
      released.wait();
      return HttpResponse{200, "application/json", R"({"slow":true})"};
    };
  }
};

TEST(HttpServerRobustness, SlowExpensiveHandlerDoesNotDelayHealthOrOtherRoutes) {
  // Given an expensive route that blocks until released
  Gate gate;
  auto s = Serve();
  s->RouteExpensive("GET", "/offsets/translate", gate.Handler());
  s->Start();
  auto slow = std::async(std::launch::async, [&] {
    return RawRequest(s->address(), Get("/offsets/translate?group=g"), 30s);
  });
  // When it is running
  gate.started.get_future().wait();
  // Then /healthz is answered meanwhile
  ExpectHealthy(*s);
  // And the expensive request completes once released
  gate.release.set_value();
  auto a = slow.get();
  EXPECT_EQ(a.status, 200) << a.error;
  EXPECT_EQ(a.body, R"({"slow":true})");
}

TEST(HttpServerRobustness, ExpensiveRequestsBeyondTheInFlightCapAre429) {
  Gate gate;
  HttpServerOptions o;
  o.max_expensive_in_flight = 1;
  auto s = Serve(o);
  s->RouteExpensive("GET", "/slow", gate.Handler());
  s->Start();
  auto first =
      std::async(std::launch::async, [&] { return RawRequest(s->address(), Get("/slow"), 30s); });
  gate.started.get_future().wait();
  // While one runs, the next is refused with 429 and Retry-After
  auto a = RawRequest(s->address(), Get("/slow"));
  EXPECT_EQ(a.status, 429) << a.error << a.body;
  EXPECT_NE(ErrorText(a).find("in flight"), std::string::npos) << a.body;
  EXPECT_EQ(a.headers["Retry-After"], "1");
  gate.release.set_value();
  EXPECT_EQ(first.get().status, 200);
  EXPECT_EQ(gate.calls.load(), 1);
}

TEST(HttpServerRobustness, ExpensiveRequestsOverTheRateAre429) {
  // Given a burst of 2 and a refill so slow that none comes back during the test
  HttpServerOptions o;
  o.expensive_per_second = 0.001;
  o.expensive_burst = 2;
  auto s = Serve(o);
  std::atomic<int> calls{0};
  s->RouteExpensive("GET", "/dump", [&calls](const HttpRequest&) {
    ++calls;
    return HttpResponse{200, "application/json", "{}"};
  });
  s->Start();
  // When three expensive requests come one after another
  EXPECT_EQ(RawRequest(s->address(), Get("/dump")).status, 200);
  EXPECT_EQ(RawRequest(s->address(), Get("/dump")).status, 200);
  auto a = RawRequest(s->address(), Get("/dump"));
  // Then the third is refused with 429 naming the rate, and its handler never ran
  EXPECT_EQ(a.status, 429) << a.body;
  EXPECT_NE(ErrorText(a).find("rate limit"), std::string::npos) << a.body;
  EXPECT_EQ(a.headers["Retry-After"], "1000");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(Refused("expensive_rate"), 1);
  // And cheap routes are not rate-limited
  for (int i = 0; i < 5; ++i) ExpectHealthy(*s);
}

TEST(HttpServerRobustness, ThrowingHandlersGive500AndServingContinues) {
  auto s = Serve();
  s->Route("GET", "/std",
           [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  s->Route("GET", "/other", [](const HttpRequest&) -> HttpResponse { throw 42; });
  s->Route("GET", "/status", [](const HttpRequest&) { return HttpResponse{7, "text/plain", ""}; });
  s->RouteExpensive("GET", "/expensive", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("expensive kaboom");
  });
  s->Start();
  // A keep-alive connection survives the failures too
  RawConnection c(s->address());
  for (const std::string target : {"/std", "/other", "/status", "/expensive"}) {
    ASSERT_TRUE(c.Send(Get(target)));
    auto a = c.Read(5s);
    EXPECT_EQ(a.status, 500) << target << ": " << a.error << a.body;
    EXPECT_FALSE(ErrorText(a).empty()) << a.body;
  }
  ASSERT_TRUE(c.Send(Get("/healthz")));
  EXPECT_EQ(c.Read(5s).status, 200);
}

TEST(HttpServerRobustness, PipelinedRequestsAreAnsweredInOrder) {
  auto s = Serve();
  s->Start();
  RawConnection c(s->address());
  ASSERT_TRUE(c.Send(Get("/healthz") + Get("/nope") + Get("/healthz")));
  EXPECT_EQ(c.Read(5s).status, 200);
  EXPECT_EQ(c.Read(5s).status, 404);
  EXPECT_EQ(c.Read(5s).status, 200);
}

TEST(HttpServerRobustness, InvalidOptionsAreAConfigErrorNamingThem) {
  HttpServerOptions o;
  o.max_connections = 0;
  o.expensive_burst = 0.5;
  try {
    HttpServer s(o);
    FAIL() << "accepted invalid options";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("max_connections"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expensive_burst"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rm::common
