// regionmirror: one binary, one subcommand per role. Each subcommand lives in its own file
// in apps/ and registers itself in Subcommands().
#include "apps/subcommands.h"
#include "common/cli.h"
#include "common/service.h"

int main(int argc, char** argv) {
  // First, before any thread exists (threads inherit the mask): a SIGTERM that arrives while a
  // service starts up then waits for its runner, which drains, instead of killing a half-started
  // process. RunCli unblocks the signals again for commands that do not handle them.
  rm::common::BlockShutdownSignals();
  return rm::common::RunCli(argc, argv, rm::apps::Subcommands());
}
