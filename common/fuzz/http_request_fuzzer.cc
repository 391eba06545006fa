// libFuzzer target for what a client's bytes reach in the HTTP server (common/http_server.h):
// Beast's request parser under the server's limits, the mapping of parse errors to answers,
// request target parsing and query decoding (uriparser), routing and handler invocation, all
// through common/detail/http_request.h, the code the server runs.
//
// The input is the raw bytes of one request. Checked for every input: nothing crashes, leaks or
// reads out of bounds; every answer has a real status; every error answer is a JSON object
// with an "error" string; a parse error is answered 400, 413 or 431; and a decoded query,
// percent-encoded again, decodes to the same parameters.
//
// Built as the real fuzzer with clang (-DRM_FUZZ=ON, target http_request_fuzzer) and, with the
// normal compiler, linked with http_request_fuzz_smoke_main.cc into a deterministic smoke test
// run by ctest (label robustness).
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/detail/http_request.h"

namespace {

namespace detail = rm::common::detail;
using rm::common::HttpRequest;
using rm::common::HttpResponse;
using rm::common::HttpServerOptions;

const detail::Router& TestRouter() {
  static const detail::Router* router = [] {
    auto* r = new detail::Router;
    r->Add("GET", "/healthz", {[](const HttpRequest&) {
             return HttpResponse{200, "application/json", "{}"};
           }});
    r->Add("GET", "/echo",
           {[](const HttpRequest& req) {
              nlohmann::json j = req.query;
              return HttpResponse{200, "application/json", j.dump()};
            },
            /*expensive=*/true});
    r->Add("POST", "/json", {[](const HttpRequest& req) {
             return HttpResponse{200, "application/json", nlohmann::json::parse(req.body).dump()};
           }});
    r->Add("GET", "/throw", {[](const HttpRequest&) -> HttpResponse {
             throw std::runtime_error("handler failed");
           }});
    r->Add("GET", "/status", {[](const HttpRequest& req) {
             return HttpResponse{static_cast<int>(req.query.size()) * 1000, "text/plain", ""};
           }});
    return r;
  }();
  return *router;
}

std::string PercentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

void CheckAnswer(const HttpResponse& out) {
  if (out.status < 100 || out.status > 599) std::abort();
  if (out.status >= 400) {
    auto j = nlohmann::json::parse(out.body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("error") || !j["error"].is_string()) {
      std::abort();
    }
  }
}

void CheckQueryRoundTrip(const HttpRequest& req) {
  if (req.query.empty()) return;
  std::string target = "/q?";
  for (const auto& [key, value] : req.query) {
    target += PercentEncode(key) + "=" + PercentEncode(value) + "&";
  }
  auto again = detail::ParseTarget(target, target.size());
  if (!again.ok() || again->query != req.query) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  HttpServerOptions options;
  options.max_header_bytes = 2048;
  options.max_body_bytes = 1024;
  options.max_target_bytes = 512;

  http::request_parser<http::string_body> parser;
  detail::ApplyLimits(parser, options);
  parser.eager(true);
  boost::asio::const_buffer input(data, size);
  boost::beast::error_code ec;
  while (input.size() > 0 && !parser.is_done()) {
    size_t used = parser.put(input, ec);
    input += used;
    if (ec == http::error::need_more) {
      ec = {};
      if (used == 0) break;  // all we have is not enough: the client's stream ends here
      continue;
    }
    if (ec) break;
  }
  if (!ec && !parser.is_done()) {
    // As http::async_read does: a stream that ends before any byte is a clean close.
    if (parser.got_some()) {
      parser.put_eof(ec);
    } else {
      ec = http::error::end_of_stream;
    }
  }

  if (ec) {
    auto answer = detail::AnswerForReadError(ec, options);
    if (!answer) return 0;
    if (answer->status != 400 && answer->status != 413 && answer->status != 431) std::abort();
    CheckAnswer(*answer);
    return 0;
  }
  auto routed = detail::RouteRequest(TestRouter(), parser.get(), options);
  if (routed.route == nullptr) {
    CheckAnswer(routed.refusal);
    return 0;
  }
  CheckQueryRoundTrip(routed.request);
  CheckAnswer(detail::Invoke(routed.route->handler, routed.request));
  return 0;
}
