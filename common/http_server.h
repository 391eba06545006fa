// A small HTTP/1.1 server on Boost.Beast for the admin API (/healthz, /metrics, offsets
// queries) and the testbed's control API. JSON in, JSON out.
//
// Lifecycle: construct (binds, so "port already taken" is reported here as a ConfigError
// naming the address), add routes, Start() (one background IO thread), Stop() or destroy.
// Handlers run on the IO thread, one request at a time; they must not block for long. A
// handler that throws yields 500 with the exception's message; HttpError gives other codes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace rm::common {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Thrown by a handler to answer with `status` and a JSON {"error": message} body.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // Address to bind. Loopback unless told otherwise: the admin API is not for the network.
  // Default: 127.0.0.1
  std::string bind_address = "127.0.0.1";
  // Port to bind; 0 picks a free one (see HttpServer::port()). Default: 0
  uint16_t port = 0;
  // Largest request body accepted. Default: 1 MiB
  size_t max_body_bytes = 1 << 20;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact method and path. Call before Start().
  void Route(const std::string& method, const std::string& path, HttpHandler handler);
  void Start();
  void Stop();

  uint16_t port() const;
  // "127.0.0.1:8080"
  std::string address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Adds /healthz (200 {"status":"ok"} while `healthy` says so, else 503 with its reason) and
// /metrics (the process MetricsRegistry) to `server`. `healthy` returns an empty string when
// healthy, otherwise the reason.
void AddAdminRoutes(HttpServer& server, std::function<std::string()> healthy);

// Escapes nothing: builds {"error": message} for error bodies.
std::string JsonError(const std::string& message);

}  // namespace rm::common
