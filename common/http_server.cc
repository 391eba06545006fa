#include "common/http_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/asio.h"
#include "common/detail/http_request.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"

namespace rm::common {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// After answering a request we will not read further (400, 413, 503), the server stops
// sending and reads what the client still sends for up to this long before closing: closing
// a socket with unread input sends a reset, which can destroy the answer before the client
// reads it.
constexpr auto kLingerTimeout = std::chrono::seconds(1);

// Bytes asked for when waiting for the first byte of a request.
constexpr size_t kFirstReadBytes = 4096;

// Why a request or connection was refused or cut off.
enum class Refusal { kMalformed, kTooLarge, kReadTimeout, kConnections, kInFlight, kRate };

// The server's metrics: rm_http_refused_total{reason}. Servers of one process share the family
// (the registry merges registrations of the same name and labels).
class HttpProbe {
 public:
  explicit HttpProbe(prometheus::Registry& registry)
      : family_(prometheus::BuildCounter()
                    .Name("rm_http_refused_total")
                    .Help("HTTP requests and connections refused or cut off, by reason")
                    .Register(registry)) {
    const char* names[] = {"malformed",   "too_large",           "read_timeout",
                           "connections", "expensive_in_flight", "expensive_rate"};
    for (size_t i = 0; i < std::size(names); ++i)
      counters_[i] = &family_.Add({{"reason", names[i]}});
  }
  void Refused(Refusal why) { counters_[static_cast<size_t>(why)]->Increment(); }

 private:
  prometheus::Family<prometheus::Counter>& family_;
  std::array<prometheus::Counter*, 6> counters_{};
};

// Admits expensive requests at `rate` per second with bursts of up to `burst`.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst)
      : rate_(rate), burst_(burst), tokens_(burst), last_(Clock::now()) {}

  bool TryTake(Clock::time_point now) {
    if (rate_ <= 0) return true;
    std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  const double rate_;
  const double burst_;
  double tokens_;
  Clock::time_point last_;
};

void Validate(const HttpServerOptions& o) {
  std::vector<std::string> problems;
  auto check = [&problems](bool ok, const char* what) {
    if (!ok) problems.emplace_back(what);
  };
  check(o.max_header_bytes > 0, "max_header_bytes must be positive");
  check(o.max_target_bytes > 0, "max_target_bytes must be positive");
  check(o.read_timeout.count() > 0, "read_timeout must be positive");
  check(o.idle_timeout.count() > 0, "idle_timeout must be positive");
  check(o.write_timeout.count() > 0, "write_timeout must be positive");
  check(o.max_connections > 0, "max_connections must be positive");
  check(o.expensive_workers > 0, "expensive_workers must be positive");
  check(o.max_expensive_in_flight > 0, "max_expensive_in_flight must be positive");
  check(o.expensive_per_second >= 0, "expensive_per_second must not be negative");
  check(o.expensive_per_second == 0 || o.expensive_burst >= 1, "expensive_burst must be >= 1");
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw ConfigError(fmt::format("HTTP server on {}:{}: {}", o.bind_address, o.port, all));
  }
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  detail::Router router;
  HttpProbe probe{*MetricsRegistry()};
  // IO thread only. Declared before `io`: sessions destroyed with io's pending handlers
  // update them.
  size_t connections = 0;  // sessions being served
  size_t refusing = 0;     // connections being answered 503
  size_t expensive_in_flight = 0;
  std::optional<TokenBucket> expensive_rate;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  // Declared after `io`: joined (in Stop) before io goes away, as its tasks post to io.
  std::unique_ptr<asio::thread_pool> workers;
  std::thread thread;
  bool started = false;

  // One connection: wait for a request (idle timeout), read it (read timeout), answer (write
  // timeout), repeat while keep-alive. Lives as long as an operation holds a shared_ptr to it.
  struct Session : std::enable_shared_from_this<Session> {
    Impl* impl;
    beast::tcp_stream stream;
    bool counted;  // served, so it counts toward max_connections (else a 503 refusal)
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;

    Session(Impl* i, tcp::socket s, bool served) : impl(i), stream(std::move(s)), counted(served) {
      ++(counted ? impl->connections : impl->refusing);
    }
    ~Session() { --(counted ? impl->connections : impl->refusing); }

    void WaitForRequest() {
      if (buffer.size() > 0) return ReadRequest();  // the next request already arrived
      stream.expires_after(impl->options.idle_timeout);
      stream.async_read_some(buffer.prepare(kFirstReadBytes),
                             [self = shared_from_this()](beast::error_code ec, size_t n) {
                               // Idle timeout, close or reset: nothing to answer.
                               if (ec) return;
                               self->buffer.commit(n);
                               self->ReadRequest();
                             });
    }

    void ReadRequest() {
      parser.emplace();
      detail::ApplyLimits(*parser, impl->options);
      // One deadline for the whole request, however many reads it takes: a client trickling
      // bytes cannot hold the connection past it.
      stream.expires_after(impl->options.read_timeout);
      http::async_read(
          stream, buffer, *parser,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnRead(beast::error_code ec) {
      if (ec) {
        if (ec == beast::error::timeout) {
          impl->probe.Refused(Refusal::kReadTimeout);
          RM_LOG_DEBUG("HTTP server {}: closed a connection that sent no whole request in {} ms",
                       impl->address(), impl->options.read_timeout.count());
        }
        auto answer = detail::AnswerForReadError(ec, impl->options);
        if (!answer) return;
        impl->probe.Refused(answer->status == 400 ? Refusal::kMalformed : Refusal::kTooLarge);
        RM_LOG_DEBUG("HTTP server {}: refused a request: {}", impl->address(), answer->body);
        // The parser's state is unknown after an error: answer, then close.
        return Write(std::move(*answer), 11, /*keep_alive=*/false);
      }
      stream.expires_never();
      const auto& message = parser->get();
      const unsigned version = message.version();
      const bool keep_alive = message.keep_alive();
      auto routed = detail::RouteRequest(impl->router, message, impl->options);
      if (routed.route == nullptr) {
        if (routed.refusal.status == 400 || routed.refusal.status == 414) {
          impl->probe.Refused(routed.refusal.status == 400 ? Refusal::kMalformed
                                                           : Refusal::kTooLarge);
        }
        return Write(std::move(routed.refusal), version, keep_alive);
      }
      if (!routed.route->expensive) {
        return Write(detail::Invoke(routed.route->handler, routed.request), version, keep_alive);
      }
      impl->RunExpensive(shared_from_this(), routed.route, std::move(routed.request), version,
                         keep_alive);
    }

    void Write(HttpResponse out, unsigned version, bool keep_alive) {
      response = {};
      response.version(version);
      response.result(static_cast<unsigned>(out.status));
      response.set(http::field::server, "regionmirror");
      response.set(http::field::content_type, out.content_type);
      for (const auto& [name, value] : out.headers) response.set(name, value);
      response.keep_alive(keep_alive);
      response.body() = std::move(out.body);
      response.prepare_payload();
      stream.expires_after(impl->options.write_timeout);
      http::async_write(stream, response,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return;
                          if (self->response.keep_alive()) return self->WaitForRequest();
                          self->Linger();
                        });
    }

    // Stop sending, read and drop what the client still sends until it closes or
    // kLingerTimeout passes, then close (when the last reference goes).
    void Linger() {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      buffer.clear();
      stream.expires_after(kLingerTimeout);
      Drain();
    }

    void Drain() {
      stream.async_read_some(buffer.prepare(kFirstReadBytes),
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return;
                               self->Drain();
                             });
    }
  };

  std::string address() const {
    beast::error_code ec;
    auto ep = acceptor.local_endpoint(ec);
    return ec ? options.bind_address : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  void RunExpensive(std::shared_ptr<Session> session, const detail::Route* route,
                    HttpRequest request, unsigned version, bool keep_alive) {
    if (expensive_in_flight >= options.max_expensive_in_flight) {
      probe.Refused(Refusal::kInFlight);
      auto out = detail::ErrorResponse(
          429, fmt::format("too many expensive requests in flight ({} at most); retry later",
                           options.max_expensive_in_flight));
      out.headers.emplace_back("Retry-After", "1");
      return session->Write(std::move(out), version, keep_alive);
    }
    if (!expensive_rate->TryTake(Clock::now())) {
      probe.Refused(Refusal::kRate);
      auto out = detail::ErrorResponse(
          429, fmt::format("expensive requests over their rate limit ({} per second, bursts "
                           "of {}); retry later",
                           options.expensive_per_second, options.expensive_burst));
      out.headers.emplace_back(
          "Retry-After",
          std::to_string(static_cast<long>(std::ceil(1 / options.expensive_per_second))));
      return session->Write(std::move(out), version, keep_alive);
    }
    ++expensive_in_flight;
    asio::post(*workers, [this, session = std::move(session), route, request = std::move(request),
                          version, keep_alive]() mutable {
      HttpResponse out = detail::Invoke(route->handler, request);
      asio::post(io, [this, session = std::move(session), out = std::move(out), version,
                      keep_alive]() mutable {
        --expensive_in_flight;
        session->Write(std::move(out), version, keep_alive);
      });
    });
  }

  void Admit(tcp::socket socket) {
    if (connections < options.max_connections) {
      return std::make_shared<Session>(this, std::move(socket), true)->WaitForRequest();
    }
    // Refusals are bounded too: past as many again, close without a word.
    probe.Refused(Refusal::kConnections);
    if (refusing >= options.max_connections) return;
    RM_LOG_DEBUG("HTTP server {}: {} connections open, the limit: refusing one", address(),
                 connections);
    auto session = std::make_shared<Session>(this, std::move(socket), false);
    session->Write(
        detail::ErrorResponse(503, fmt::format("too many connections ({} at most); retry later",
                                               options.max_connections)),
        11, /*keep_alive=*/false);
  }

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        Admit(std::move(socket));
        return Accept();
      }
      // Out of file descriptors and the like: retry shortly rather than spin.
      RM_LOG_WARN("HTTP server {}: accept failed: {}", address(), ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wec) {
        if (!wec) Accept();
      });
    });
  }

  // The IO thread. Handlers catch their own exceptions; this is the last guard, so that a bug
  // in a completion handler costs one connection, never the process.
  void Run() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        RM_LOG_ERROR("HTTP server {}: unexpected error on the IO thread (serving on): {}",
                     address(), e.what());
      } catch (...) {
        RM_LOG_ERROR("HTTP server {}: unknown error on the IO thread (serving on)", address());
      }
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  Validate(options);
  impl_->options = std::move(options);
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->options.bind_address, ec);
  if (ec) {
    throw ConfigError(fmt::format("HTTP server: bad bind address '{}': {}",
                                  impl_->options.bind_address, ec.message()));
  }
  tcp::endpoint ep(addr, impl_->options.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw ConfigError(fmt::format("HTTP server: cannot listen on {}:{}: {}",
                                  impl_->options.bind_address, impl_->options.port, ec.message()));
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(const std::string& method, const std::string& path, HttpHandler handler) {
  impl_->router.Add(method, path, {std::move(handler), /*expensive=*/false});
}

void HttpServer::RouteExpensive(const std::string& method, const std::string& path,
                                HttpHandler handler) {
  impl_->router.Add(method, path, {std::move(handler), /*expensive=*/true});
}

void HttpServer::Start() {
  if (impl_->started) return;
  impl_->started = true;
  if (impl_->router.HasExpensive()) {
    impl_->workers = std::make_unique<asio::thread_pool>(impl_->options.expensive_workers);
    impl_->expensive_rate.emplace(impl_->options.expensive_per_second,
                                  impl_->options.expensive_burst);
  }
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  if (impl_->workers) {
    impl_->workers->stop();  // queued handlers are dropped; running ones finish
    impl_->workers->join();
  }
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string HttpServer::address() const {
  auto ep = impl_->acceptor.local_endpoint();
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

void AddAdminRoutes(HttpServer& server, std::function<std::string()> healthy) {
  server.Route("GET", "/healthz", [healthy](const HttpRequest&) {
    std::string reason = healthy ? healthy() : "";
    if (reason.empty()) return HttpResponse{200, "application/json", R"({"status":"ok"})"};
    return HttpResponse{503, "application/json",
                        nlohmann::json{{"status", "unhealthy"}, {"reason", reason}}.dump(
                            -1, ' ', false, nlohmann::json::error_handler_t::replace)};
  });
  server.Route("GET", "/metrics", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4", RenderMetrics(*MetricsRegistry())};
  });
}

}  // namespace rm::common
