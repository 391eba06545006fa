// Signal handling for long-running subcommands: block SIGINT/SIGTERM (and SIGCHLD) before any
// thread starts, so that every thread inherits the mask and only the main thread, waiting in
// sigwait, sees them. Call BlockShutdownSignals() first thing in a subcommand.
#pragma once

#include <signal.h>

#include <chrono>

namespace rm::apps {

void BlockShutdownSignals();
// Waits up to `timeout` for SIGINT, SIGTERM or SIGCHLD; returns the signal or 0 on timeout.
int WaitForSignal(std::chrono::milliseconds timeout);

}  // namespace rm::apps
