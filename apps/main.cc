// regionmirror: one binary, one subcommand per role. Each subcommand lives in its own file
// in apps/ and registers itself in Subcommands().
#include "apps/subcommands.h"
#include "common/cli.h"

int main(int argc, char** argv) { return rm::common::RunCli(argc, argv, rm::apps::Subcommands()); }
