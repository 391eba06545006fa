// `regionmirror cdc cassandra ...`: Cassandra change capture (src-cdc/cassandra).
#include "apps/subcommands.h"

namespace rm::apps {

std::vector<common::Subcommand> CassandraCdcSubcommands() { return {}; }

}  // namespace rm::apps
