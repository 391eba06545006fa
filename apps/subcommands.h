#pragma once

#include <vector>

#include "common/cli.h"

namespace rm::apps {

// Every subcommand of the binary, in the order `regionmirror --help` lists them.
std::vector<common::Subcommand> Subcommands();

// Per-area lists, each defined in that area's file.
std::vector<common::Subcommand> TestbedSubcommands();
std::vector<common::Subcommand> MirrorSubcommands();
std::vector<common::Subcommand> OffsetsSubcommands();
std::vector<common::Subcommand> PostgresCdcSubcommands();
std::vector<common::Subcommand> CassandraCdcSubcommands();
std::vector<common::Subcommand> TopologySubcommands();
std::vector<common::Subcommand> LoadTestSubcommands();

}  // namespace rm::apps
