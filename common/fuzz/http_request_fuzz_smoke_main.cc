// Deterministic smoke run of http_request_fuzzer.cc for ctest and for builds without libFuzzer:
// a few well-formed and malformed requests as seeds, then seeded mutations that know HTTP's
// delimiters (insert "%", "%zz", CRLF, "?", "&", "=", "#", NUL; cut; splice; flip bits; repeat
// a run of bytes past the header, body and target limits). A crash or abort fails the test.
//
// Usage: http_request_fuzz_smoke [iterations]   (default 100000)
//        http_request_fuzz_smoke --write-corpus DIR   (the seeds, as a libFuzzer corpus)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /echo?group=g%201&topic=a+b&flag&=v HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /healthz?%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /json HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2.5]}",
      "POST /json HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4\r\n{\"a\"\r\n4\r\n:1}\n\r\n0\r\n\r\n",
      "GET /throw HTTP/1.0\r\n\r\n",
      "GET /status?a=1&b=2 HTTP/1.1\r\nConnection: close\r\n\r\n",
      "DELETE //echo?x=%C3%A9 HTTP/1.1\r\n\r\n",
  };
  return seeds;
}

const std::vector<std::string>& Tokens() {
  static const std::vector<std::string> tokens = {"%",
                                                  "%z",
                                                  "%zz",
                                                  "%0",
                                                  "%00",
                                                  "%fF",
                                                  "\r\n",
                                                  "\r\n\r\n",
                                                  "\n",
                                                  "?",
                                                  "&",
                                                  "=",
                                                  "+",
                                                  "#",
                                                  " ",
                                                  "/",
                                                  "//",
                                                  std::string(1, '\0'),
                                                  "\xff",
                                                  "Content-Length: 99999999\r\n",
                                                  "Transfer-Encoding: chunked\r\n",
                                                  "HTTP/1.1",
                                                  "HTTP/9.9",
                                                  ":",
                                                  "\t"};
  return tokens;
}

std::string Mutate(std::mt19937_64& rng) {
  const auto& seeds = Seeds();
  std::string s = seeds[rng() % seeds.size()];
  auto at = [&rng](const std::string& x) { return rng() % (x.size() + 1); };
  for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
    switch (rng() % 6) {
      case 0:
        s.insert(at(s), Tokens()[rng() % Tokens().size()]);
        break;
      case 1:
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 2:
        s.erase(at(s), rng() % 8);
        break;
      case 3:
        s.resize(at(s));
        break;
      case 4: {  // grow a run of bytes past the limits (header 2 KiB, body 1 KiB, target 512)
        size_t from = at(s);
        std::string run = s.substr(from, 1 + rng() % 4);
        std::string repeated;
        for (size_t n = 1 + rng() % 1200; n > 0; --n) repeated += run;
        s.insert(from, repeated);
        break;
      }
      default: {
        const auto& other = seeds[rng() % seeds.size()];
        s = s.substr(0, at(s)) + other.substr(rng() % other.size());
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--write-corpus") {
    return rm::common::WriteFuzzCorpus(Seeds(), argv[2]);
  }
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100000;
  for (const auto& seed : Seeds()) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  }
  std::mt19937_64 rng(20261206);
  for (long i = 0; i < iterations; ++i) {
    std::string input = Mutate(rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("http_request_fuzz_smoke: %ld mutated requests, no crash\n", iterations);
  return 0;
}
