#include "apps/subcommands.h"

#include <fmt/format.h>

namespace rm::apps {

std::vector<common::Subcommand> Subcommands() {
  std::vector<common::Subcommand> all;
  auto add = [&all](std::vector<common::Subcommand> more) {
    for (auto& s : more) all.push_back(std::move(s));
  };
  add(MirrorSubcommands());
  add(OffsetsSubcommands());
  add(TopologySubcommands());
  add(PostgresCdcSubcommands());
  add(CassandraCdcSubcommands());
  add(TestbedSubcommands());
  add(LoadTestSubcommands());
  all.push_back({"version", "Print the version.", "", {}, [](const auto&) {
                   fmt::print("regionmirror 0.1.0\n");
                   return 0;
                 }});
  return all;
}

}  // namespace rm::apps
