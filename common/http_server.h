// A small HTTP/1.1 server on Boost.Beast for the admin API (/healthz, /metrics, offsets
// queries) and the testbed's control API. JSON in, JSON out.
//
// Lifecycle: construct (binds, so "port already taken" is reported here as a ConfigError
// naming the address; bad options are a ConfigError too), add routes, Start() (one IO thread,
// plus a small worker pool when expensive routes exist), Stop() or destroy. Routes must all be
// added before Start().
//
// Threading: ordinary routes run on the IO thread, one at a time; they must answer in
// microseconds (health, metrics, control calls on in-memory state). Routes added with
// RouteExpensive() run on the worker pool, so a slow one (it opens Kafka clients, scans
// RocksDB) never delays /healthz or /metrics; they are admitted by an in-flight cap and a
// token-bucket rate limit, and refused with 429 beyond either.
//
// Robustness: nothing a client sends can stop the server. A malformed request (request line,
// header, method, target, percent-encoding) is answered 400 with {"error": "..."} naming the
// problem; too large a header 431, body 413, target 414. A handler that throws yields 500 with
// the exception's message (HttpError gives other codes) and the server keeps serving. Slow
// clients are cut off by the read, idle and write timeouts; connections beyond
// max_connections get 503 and are closed. No exception leaves the IO thread. Refusals are
// counted in rm_http_refused_total{reason} (malformed, too_large, read_timeout, connections,
// expensive_in_flight, expensive_rate).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace rm::common {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string, as sent (not percent-decoded)
  std::map<std::string, std::string> query;  // decoded; '+' is a space; the last of a key wins
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra response headers (e.g. Retry-After).
  std::vector<std::pair<std::string, std::string>> headers = {};
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
  // Largest request body accepted; a larger one is answered 413. Default: 1 MiB
  size_t max_body_bytes = 1 << 20;
  // Largest request header section (request line and fields); larger is answered 431.
  // Default: 8 KiB
  size_t max_header_bytes = 8 << 10;
  // Longest request target (path and query); longer is answered 414. Default: 2 KiB
  size_t max_target_bytes = 2 << 10;
  // Time a client has to send a whole request once its first byte arrived, however it trickles
  // in; then the connection is closed. Default: 10 s
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  // Time an open connection may wait for the first byte of a request (keep-alive idle time);
  // then it is closed. Default: 30 s
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // Time a client has to take a response; then the connection is closed. Default: 10 s
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // Connections served at once; a connection beyond is answered 503 and closed. Default: 64
  size_t max_connections = 64;
  // Threads running expensive routes (see RouteExpensive). Default: 2
  size_t expensive_workers = 2;
  // Expensive requests running or queued at once; more are answered 429. Default: 4
  size_t max_expensive_in_flight = 4;
  // Sustained rate of expensive requests admitted (a token bucket refilled at this rate); over
  // it, 429 with Retry-After. 0 disables the rate limit. Default: 5 per second
  double expensive_per_second = 5;
  // Expensive requests admitted at once after a quiet time (the bucket's size); at least 1.
  // Default: 10
  double expensive_burst = 10;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact method and path, run on the IO thread. Call before Start().
  void Route(const std::string& method, const std::string& path, HttpHandler handler);
  // The same for a handler that may block (network calls, disk scans): it runs on the worker
  // pool, admitted by max_expensive_in_flight and the expensive_per_second rate. Call before
  // Start().
  void RouteExpensive(const std::string& method, const std::string& path, HttpHandler handler);
  void Start();
  // Stops accepting and serving; waits for running expensive handlers to return.
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

// Builds {"error": message} for error bodies; bytes that are not UTF-8 become U+FFFD.
std::string JsonError(const std::string& message);

}  // namespace rm::common
