// How much slower the code under test runs in this build, for the few test-side timings that
// depend on it. Under AddressSanitizer (gcc's -fsanitize=address defines __SANITIZE_ADDRESS__,
// clang says so through __has_feature) a process starts and runs about three times slower
// (measured: the offsets crash child reaches its first checkpoint after ~720 ms against
// ~240 ms, on a loaded 2-core machine). Only for what a test waits for or when it strikes
// (deadlines, kill windows): never to change the product's own timeouts, never as a retry.
#pragma once

#include <chrono>

namespace rm::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 3;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr int kSanitizerSlowdown = 3;
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif
#else
inline constexpr int kSanitizerSlowdown = 1;
#endif

// `d` stretched by this build's slowdown: unchanged in normal builds.
template <class Rep, class Period>
constexpr std::chrono::duration<Rep, Period> SanitizerScaled(std::chrono::duration<Rep, Period> d) {
  return d * kSanitizerSlowdown;
}

}  // namespace rm::testing
