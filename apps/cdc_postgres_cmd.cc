// `regionmirror cdc postgres ...` and `regionmirror cdc check-migration`: Postgres change
// capture (src-cdc/postgres).
#include "apps/subcommands.h"

namespace rm::apps {

std::vector<common::Subcommand> PostgresCdcSubcommands() { return {}; }

}  // namespace rm::apps
