// The main loop every long-running `regionmirror` command shares (`run`, `cdc postgres run`,
// `cdc cassandra run`): admin server, the service on its own thread, shutdown signals, drain.
//
// Signals: main() blocks SIGINT, SIGTERM and SIGCHLD before anything else runs
// (BlockShutdownSignals), so every thread inherits the mask and a signal that arrives during
// start-up stays pending until RunService waits for it: it still drains and exits 0 instead of
// killing the process half-started.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/http_server.h"

namespace rm::common {

struct ServiceOptions {
  // What the logs call the service ("mirror", "cdc postgres"). Default: "service"
  std::string name = "service";
  // Admin server (/healthz, /metrics and `routes`): its address and port; 0 picks a free port,
  // -1 runs none. Default: -1
  std::string admin_bind = "127.0.0.1";
  int admin_port = -1;
  // The /healthz text, "" when healthy; called on the HTTP server's thread. Default: healthy
  std::function<std::string()> health;
  // Extra admin routes, added before the server starts. Default: none
  std::function<void(HttpServer&)> routes;
  // Called on the main thread every `tick_interval` while the service runs (metrics that are
  // sampled, health that is computed). Default: none, every 500 ms
  std::function<void()> tick;
  std::chrono::milliseconds tick_interval{500};
  // Logged after "signal N: " when SIGINT or SIGTERM arrives. Default: "draining and stopping"
  std::string on_signal = "draining and stopping";
};

// Blocks SIGINT, SIGTERM and SIGCHLD in the calling thread; threads started afterwards inherit
// the mask. Called first thing in main().
void BlockShutdownSignals();
// Undoes BlockShutdownSignals in the calling thread: for commands that do not handle them, a
// signal pending since start-up is then delivered with its default action.
void UnblockShutdownSignals();
// Waits up to `timeout` for SIGINT, SIGTERM or SIGCHLD; returns the signal or 0 on timeout.
int WaitForSignal(std::chrono::milliseconds timeout);

// Starts the admin server (if any), runs `run` on its own thread, and waits until it returns
// or SIGINT/SIGTERM arrives; then sets the flag `run` watches, waits for it to return (the
// drain) and stops the admin server. Returns `run`'s exit code; an exception thrown by `run` is
// logged and gives 1. Call with the shutdown signals blocked (BlockShutdownSignals).
int RunService(const ServiceOptions& options,
               const std::function<int(const std::atomic<bool>& stop)>& run);

}  // namespace rm::common
