// Command line: `regionmirror <subcommand> [flags] [args]`.
//
// Flags are declared with gflags (DEFINE_*) where the subcommand lives; each subcommand lists
// the flags it accepts, so a flag meant for another subcommand is an error rather than being
// silently ignored. Parsing is ours (gflags only holds the values and their help text) so
// every usage error prints one clear line and exits 2, as scripts expect.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace rm::common {

struct Subcommand {
  // One or more words, e.g. "run" or "cdc postgres provision".
  std::string name;
  // One line for `regionmirror --help`.
  std::string summary;
  // Positional arguments, for help, e.g. "FILE.sql". Empty: none accepted.
  std::string args_usage;
  // gflags this subcommand accepts (besides the global ones: log_level).
  std::vector<std::string> flags;
  // Runs with the positional arguments; returns the process exit code.
  std::function<int(const std::vector<std::string>& args)> run;
  // True for commands that wait for SIGINT/SIGTERM themselves (common/service.h): the signals
  // main() blocked stay blocked. Others get them unblocked before `run`, so a signal ends them
  // as it ends any program. Default: false
  bool handles_signals = false;
};

// Exit code for usage errors (unknown subcommand or flag, bad flag value).
inline constexpr int kUsageExit = 2;

// Parses argv against the subcommands, sets flags, initialises logging and runs the chosen
// subcommand (unblocking the shutdown signals first unless it handles them). Catches ConfigError
// and other exceptions from it: one line on stderr, exit 1.
int RunCli(int argc, char** argv, const std::vector<Subcommand>& subcommands);

}  // namespace rm::common
