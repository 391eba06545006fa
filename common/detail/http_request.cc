#include "common/detail/http_request.h"

#include <fmt/format.h>
#include <uriparser/Uri.h>

#include <nlohmann/json.hpp>

namespace rm::common {

std::string JsonError(const std::string& message) {
  // A message may quote request bytes: replace what is not UTF-8 instead of throwing.
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

namespace detail {

namespace beast = boost::beast;

namespace {

// Up to 16 bytes of `s` for an error message, control and non-ASCII bytes as \xNN.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 16)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// Frees uriparser's allocations on every path out.
struct UriGuard {
  UriUriA* uri = nullptr;
  UriQueryListA* query = nullptr;
  ~UriGuard() {
    if (uri != nullptr) uriFreeUriMembersA(uri);
    if (query != nullptr) uriFreeQueryListA(query);
  }
};

bool IsHttpParseError(beast::error_code ec) {
  return &ec.category() == &beast::error_code(http::error::bad_target).category();
}

}  // namespace

HttpResponse ErrorResponse(int status, const std::string& message) {
  return HttpResponse{status, "application/json", JsonError(message)};
}

void ApplyLimits(http::request_parser<http::string_body>& parser,
                 const HttpServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser.body_limit(options.max_body_bytes);
}

std::optional<HttpResponse> AnswerForReadError(beast::error_code ec,
                                               const HttpServerOptions& options) {
  if (ec == http::error::header_limit) {
    return ErrorResponse(
        431, fmt::format("request header larger than {} bytes", options.max_header_bytes));
  }
  if (ec == http::error::body_limit) {
    return ErrorResponse(413,
                         fmt::format("request body larger than {} bytes", options.max_body_bytes));
  }
  // end_of_stream: closed cleanly between requests. Anything outside Beast's HTTP category
  // (reset, timeout, operation aborted) leaves no one to answer.
  if (ec == http::error::end_of_stream || !IsHttpParseError(ec)) return std::nullopt;
  if (ec == http::error::partial_message) {
    return ErrorResponse(400, "malformed request: the connection ended inside the request");
  }
  return ErrorResponse(400, fmt::format("malformed request: {}", ec.message()));
}

Result<HttpRequest> ParseTarget(std::string_view target, size_t max_target_bytes) {
  if (target.size() > max_target_bytes) {
    return Error{"http.target_too_long",
                 fmt::format("request target is {} bytes, more than the {} allowed", target.size(),
                             max_target_bytes)};
  }
  if (target.empty() || target[0] != '/') {
    return Error{"http.bad_target",
                 fmt::format("request target must start with '/', got '{}'", Excerpt(target))};
  }
  // uriparser checks RFC 3986 syntax: every '%' starts two hex digits, only allowed characters.
  // The target is read as the path and query of an absolute URI, because on its own a target
  // starting "//" would be taken for an authority.
  static constexpr std::string_view kBase = "http://localhost";
  std::string uri_text = std::string(kBase) + std::string(target);
  UriUriA uri;
  const char* error_pos = nullptr;
  if (uriParseSingleUriExA(&uri, uri_text.data(), uri_text.data() + uri_text.size(), &error_pos) !=
      URI_SUCCESS) {
    size_t at = 0;
    if (error_pos != nullptr && error_pos >= uri_text.data() + kBase.size() &&
        error_pos <= uri_text.data() + uri_text.size()) {
      at = static_cast<size_t>(error_pos - uri_text.data()) - kBase.size();
    }
    // uriparser stops at the '%' of a bad escape or at one of the two bytes after it.
    bool bad_percent = false;
    for (size_t back = 0; back <= 2 && back <= at && !bad_percent; ++back) {
      if (at - back < target.size() && target[at - back] == '%') {
        bad_percent = true;
        at -= back;
      }
    }
    std::string_view rest = target.substr(std::min(at, target.size()));
    return Error{"http.bad_target",
                 fmt::format("{} in the request target at byte {}: '{}'",
                             bad_percent ? "bad percent-encoding" : "character not allowed", at,
                             Excerpt(rest))};
  }
  UriGuard guard{&uri};
  if (uri.fragment.first != nullptr) {
    return Error{"http.bad_target", "request target must not contain a fragment ('#')"};
  }
  HttpRequest req;
  const size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return req;
  const std::string_view query = target.substr(q + 1);
  for (size_t i = 0; i + 2 < query.size(); ++i) {
    // uriparser decodes into NUL-terminated strings: %00 would silently cut a value short.
    if (query[i] == '%' && query[i + 1] == '0' && query[i + 2] == '0') {
      return Error{"http.bad_target", "the query must not contain an encoded NUL (%00)"};
    }
  }
  int count = 0;
  if (uriDissectQueryMallocExA(&guard.query, &count, query.data(), query.data() + query.size(),
                               URI_TRUE, URI_BR_DONT_TOUCH) != URI_SUCCESS) {
    return Error{"http.bad_target", "the query string cannot be decoded"};
  }
  for (const UriQueryListA* item = guard.query; item != nullptr; item = item->next) {
    req.query[item->key != nullptr ? item->key : ""] = item->value != nullptr ? item->value : "";
  }
  return req;
}

void Router::Add(const std::string& method, const std::string& path, Route route) {
  routes_[{method, path}] = std::move(route);
}

const Route* Router::Find(const std::string& method, const std::string& path) const {
  auto it = routes_.find({method, path});
  return it == routes_.end() ? nullptr : &it->second;
}

bool Router::HasPath(const std::string& path) const {
  for (const auto& [key, route] : routes_) {
    if (key.second == path) return true;
  }
  return false;
}

bool Router::HasExpensive() const {
  for (const auto& [key, route] : routes_) {
    if (route.expensive) return true;
  }
  return false;
}

RoutedRequest RouteRequest(const Router& router, const BeastRequest& message,
                           const HttpServerOptions& options) {
  RoutedRequest out;
  auto parsed = ParseTarget(std::string_view(message.target().data(), message.target().size()),
                            options.max_target_bytes);
  if (!parsed.ok()) {
    out.refusal = ErrorResponse(parsed.error().code == "http.target_too_long" ? 414 : 400,
                                parsed.error().message);
    return out;
  }
  out.request = std::move(*parsed);
  out.request.method = std::string(message.method_string());
  out.route = router.Find(out.request.method, out.request.path);
  if (out.route == nullptr) {
    out.refusal = router.HasPath(out.request.path)
                      ? ErrorResponse(405, fmt::format("method {} not allowed on {}",
                                                       out.request.method, out.request.path))
                      : ErrorResponse(404, fmt::format("no such path: {}", out.request.path));
    return out;
  }
  out.request.body = message.body();
  return out;
}

HttpResponse Invoke(const HttpHandler& handler, const HttpRequest& request) noexcept {
  // Building an answer allocates: should that throw (out of memory), the fallback is a
  // preformatted body.
  static const std::string kFallback = R"({"error":"internal error"})";
  try {
    HttpResponse out;
    try {
      out = handler(request);
    } catch (const HttpError& e) {
      out = ErrorResponse(e.status(), e.what());
    } catch (const nlohmann::json::exception& e) {
      out = ErrorResponse(400, fmt::format("bad JSON: {}", e.what()));
    } catch (const std::exception& e) {
      out = ErrorResponse(500, e.what());
    } catch (...) {
      out = ErrorResponse(500, "the handler failed with an unknown exception");
    }
    if (out.status < 100 || out.status > 599) {
      out = ErrorResponse(
          500,
          fmt::format("the handler answered HTTP status {}, which does not exist", out.status));
    }
    return out;
  } catch (...) {
    return HttpResponse{500, "application/json", kFallback};
  }
}

}  // namespace detail
}  // namespace rm::common
