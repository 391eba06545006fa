// The mirror's configuration from a topology: what `run --topology FILE --pair A:B` will run.
// The file's `mirror:` and `offsets:` sections are read by the mirror's own loader
// (replication::ParseMirrorConfigYaml), so they mean exactly what they mean in the mirror's YAML.
#pragma once

#include <vector>

#include "replication/config.h"
#include "topology/config.h"
#include "topology/planner.h"
#include "topology/topology.h"

namespace rm::topology {

// The clusters of `plan`'s flows (secrets read from their variables and files), its flows, and
// the file's mirror:/offsets: sections. Throws ConfigError naming the file and field when a
// section is wrong or a secret cannot be read.
replication::MirrorConfig MirrorConfigFor(const Topology& topology, const Plan& plan);

// The problems the mirror's loader finds in the mirror:/offsets: sections of `config`, each with
// its line. Reads no secrets.
std::vector<Problem> ValidateMirrorSections(const TopologyConfig& config);

}  // namespace rm::topology
