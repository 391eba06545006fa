#include "apps/subcommands.h"

namespace rm::apps {

std::vector<common::Subcommand> TestbedSubcommands() { return {}; }

}  // namespace rm::apps
