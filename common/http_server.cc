#include "common/http_server.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <thread>
#include "common/asio.h"

#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"

namespace rm::common {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

HttpRequest ParseTarget(std::string_view target) {
  HttpRequest req;
  auto q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return req;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) {
      req.query[UrlDecode(kv)] = "";
    } else {
      req.query[UrlDecode(kv.substr(0, eq))] = UrlDecode(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return req;
}

}  // namespace

std::string JsonError(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump();
}

struct HttpServer::Impl {
  HttpServerOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::map<std::pair<std::string, std::string>, HttpHandler> routes;
  std::thread thread;
  bool started = false;

  HttpResponse Dispatch(HttpRequest req) {
    auto it = routes.find({req.method, req.path});
    if (it == routes.end()) {
      for (const auto& [key, handler] : routes) {
        if (key.second == req.path) {
          return {405, "application/json",
                  JsonError(fmt::format("method {} not allowed on {}", req.method, req.path))};
        }
      }
      return {404, "application/json", JsonError(fmt::format("no such path: {}", req.path))};
    }
    try {
      return it->second(req);
    } catch (const HttpError& e) {
      return {e.status(), "application/json", JsonError(e.what())};
    } catch (const nlohmann::json::exception& e) {
      return {400, "application/json", JsonError(fmt::format("bad JSON: {}", e.what()))};
    } catch (const std::exception& e) {
      return {500, "application/json", JsonError(e.what())};
    }
  }

  // One connection: read a request, answer, repeat while keep-alive.
  struct Session : std::enable_shared_from_this<Session> {
    Impl* impl;
    tcp::socket socket;
    beast::flat_buffer buffer;
    std::unique_ptr<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;

    Session(Impl* i, tcp::socket s) : impl(i), socket(std::move(s)) {}

    void Read() {
      parser = std::make_unique<http::request_parser<http::string_body>>();
      parser->body_limit(impl->options.max_body_bytes);
      http::async_read(
          socket, buffer, *parser,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnRead(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof) {
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        return;
      }
      auto& req = parser->get();
      HttpResponse out;
      if (ec == http::error::body_limit) {
        out = {413, "application/json", JsonError("request body too large")};
      } else if (ec) {
        return;  // Broken connection or unparsable request: nothing sensible to answer.
      } else {
        HttpRequest r = ParseTarget(std::string_view(req.target().data(), req.target().size()));
        r.method = std::string(req.method_string());
        r.body = req.body();
        out = impl->Dispatch(std::move(r));
      }
      response = {};
      response.version(req.version());
      response.result(static_cast<http::status>(out.status));
      response.set(http::field::server, "regionmirror");
      response.set(http::field::content_type, out.content_type);
      response.keep_alive(!ec && req.keep_alive());
      response.body() = std::move(out.body);
      response.prepare_payload();
      http::async_write(socket, response,
                        [self = shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return;
                          if (!self->response.keep_alive()) {
                            beast::error_code ignored;
                            self->socket.shutdown(tcp::socket::shutdown_send, ignored);
                            return;
                          }
                          self->Read();
                        });
    }
  };

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(this, std::move(socket))->Read();
      Accept();
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
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
  impl_->routes[{method, path}] = std::move(handler);
}

void HttpServer::Start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
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
                        nlohmann::json{{"status", "unhealthy"}, {"reason", reason}}.dump()};
  });
  server.Route("GET", "/metrics", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4", RenderMetrics(*MetricsRegistry())};
  });
}

}  // namespace rm::common
