// The part of HttpServer that turns bytes into an answer without sockets or threads: parser
// limits, read errors to answers, request targets, routing and handler invocation. The server
// (common/http_server.cc) and the fuzzer (common/fuzz/http_request_fuzzer.cc) run this same
// code, so what the fuzzer explores is what a client reaches.
//
// Nothing here throws for any input; Invoke() catches whatever a handler throws.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/asio.h"
#include "common/http_server.h"
#include "common/result.h"

namespace rm::common::detail {

namespace http = boost::beast::http;
using BeastRequest = http::request<http::string_body>;

// An answer with a JSON {"error": message} body.
HttpResponse ErrorResponse(int status, const std::string& message);

// Sets the header and body limits of `options` on a fresh parser.
void ApplyLimits(http::request_parser<http::string_body>& parser, const HttpServerOptions& options);

// The answer to a failed read: 431 (header limit), 413 (body limit), 400 naming the problem
// for any other malformed message; nullopt for connection-level errors (closed, reset, timed
// out), which have no one to answer.
std::optional<HttpResponse> AnswerForReadError(boost::beast::error_code ec,
                                               const HttpServerOptions& options);

// Splits an origin-form request target ("/path?k=v&k2=v+2") into path and decoded query.
// Errors: code "http.target_too_long" (longer than max_target_bytes) or "http.bad_target"
// (not origin form, bad percent-encoding or characters RFC 3986 does not allow, a fragment,
// an encoded NUL), with a message naming the problem and where.
Result<HttpRequest> ParseTarget(std::string_view target, size_t max_target_bytes);

struct Route {
  HttpHandler handler;
  bool expensive = false;  // runs on the worker pool, admitted by the limits
};

// Exact method and path routes. Not thread-safe to modify; Find() may run concurrently.
class Router {
 public:
  void Add(const std::string& method, const std::string& path, Route route);
  // The route for `method` and `path`, or nullptr.
  const Route* Find(const std::string& method, const std::string& path) const;
  // True if some method has a route at `path` (to tell 405 from 404).
  bool HasPath(const std::string& path) const;
  bool HasExpensive() const;

 private:
  std::map<std::pair<std::string, std::string>, Route> routes_;
};

// A parsed message after target parsing and routing: the route to run with its request, or
// (route == nullptr) the refusal to send (400, 404, 405, 414).
struct RoutedRequest {
  const Route* route = nullptr;
  HttpRequest request;
  HttpResponse refusal;
};
RoutedRequest RouteRequest(const Router& router, const BeastRequest& message,
                           const HttpServerOptions& options);

// Runs `handler`; never throws. HttpError gives its status, a nlohmann::json exception 400,
// anything else 500; a status outside 100..599 becomes 500.
HttpResponse Invoke(const HttpHandler& handler, const HttpRequest& request) noexcept;

}  // namespace rm::common::detail
