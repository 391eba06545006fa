// What `regionmirror run --check` prints: the clusters, the flows with their topic and group
// regexes, remote topic names and record transforms (each step in order, with its settings and
// predicate), offsets (directory, checkpoints, group sync), heartbeats, the
// MM2 defaults applied because the file does not set them, and the keys not applied.
#pragma once

#include <optional>
#include <string>

#include "replication/config.h"

namespace rm::replication {

// Plain text, several lines, ending with a newline. `file` names the configuration.
std::string DescribeMirrorConfig(const MirrorConfig& config, const std::string& file);

// Why offsets.dir cannot be used by this process (neither it nor, if missing, its nearest
// existing parent is a writable directory), or nullopt. Creates nothing.
std::optional<std::string> OffsetsDirProblem(const MirrorConfig& config);

}  // namespace rm::replication
