// A raw HTTP/1.1 client for tests of servers' robustness: sends any bytes (malformed requests,
// trickled requests), reads one response with Beast's parser, and tells when the server closed
// the connection. Every wait is bounded by a timeout, so a misbehaving server fails the test
// instead of hanging it.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "common/asio.h"

namespace rm::testing {

struct RawAnswer {
  int status = 0;  // 0: no response (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // field name as the server spelt it
  std::string error;                           // why there is no response
};

class RawConnection {
 public:
  // Connects to "host:port" (an IPv4 address).
  explicit RawConnection(const std::string& address) {
    auto colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  // False once the server closed or reset the connection.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response, waiting at most `timeout` in all.
  RawAnswer Read(std::chrono::milliseconds timeout) {
    namespace http = boost::beast::http;
    RawAnswer out;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 << 20);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    boost::beast::error_code ec;
    for (;;) {
      // Bytes left over from the last read first (a pipelined or partly parsed response).
      while (!pending_.empty() && !parser.is_done()) {
        size_t used = parser.put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec == http::error::need_more) {
          ec = {};
          break;
        }
        if (ec) {
          out.error = "bad response: " + ec.message();
          return out;
        }
      }
      if (parser.is_done()) break;
      int n = ReadSome(deadline);
      if (n == -2) {
        out.error = "timed out";
        return out;
      }
      if (n <= 0) {
        if (parser.got_some()) parser.put_eof(ec);
        if (!parser.got_some() || ec || !parser.is_done()) {
          out.error = n == 0 ? "closed by the server" : "connection reset";
          return out;
        }
        break;
      }
    }
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
    for (const auto& field : res)
      out.headers[std::string(field.name_string())] = std::string(field.value());
    return out;
  }

  // Waits up to `timeout` for the server to close (or reset) the connection, dropping what it
  // sends meanwhile. False on timeout.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int n = ReadSome(deadline);
      if (n == -2) return false;
      if (n <= 0) return true;
      pending_.clear();
    }
  }

  // True if the server closed the connection within `wait` (a readable socket that reads 0
  // or fails); bytes it sent are kept for Read().
  bool ClosedWithin(std::chrono::milliseconds wait) {
    int n = ReadSome(std::chrono::steady_clock::now() + wait);
    return n == 0 || n == -1;
  }

 private:
  // > 0 bytes appended to pending_, 0 closed, -1 reset or error, -2 deadline passed.
  int ReadSome(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return -2;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) pending_.append(buf, static_cast<size_t>(n));
    return n > 0 ? static_cast<int>(n) : (n == 0 ? 0 : -1);
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// One request on a fresh connection: send `bytes`, read the response.
inline RawAnswer RawRequest(const std::string& address, std::string_view bytes,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  RawConnection c(address);
  if (!c.connected()) return {0, "", {}, "cannot connect to " + address};
  c.Send(bytes);  // a server that answers early and closes may refuse the rest: read anyway
  return c.Read(timeout);
}

// "GET <target> HTTP/1.1" with a Host header, the connection kept open.
inline std::string Get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

}  // namespace rm::testing
