// The owner's mark a flow leaves on each source partition it copies, in the metadata of the
// source group's committed offset: how far it may copy, or that it let the partition go
// cleanly. The group coordinator accepts a commit only from a current member of the group, so
// an instance that lost its partitions (killed, or paused past its session) can no longer
// raise its mark, and the next owner reads the last mark it made (mirror/README.md, "Fencing a
// paused instance").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm::mirror {

struct OwnerMark {
  // The instance (process) that wrote the mark; see ThisInstance().
  std::string instance;
  // Released: everything this owner handed to its producer was acknowledged and it copies
  // nothing more. Otherwise it may have handed source offsets up to `reserved` to its producer.
  bool released = false;
  int64_t reserved = -1;
};

// "rm1 reserved=<offset> by=<instance>" or "rm1 released by=<instance>".
std::string EncodeOwnerMark(const OwnerMark& mark);
// nullopt for metadata written by anything else (an empty string, another tool).
std::optional<OwnerMark> ParseOwnerMark(std::string_view metadata);

// This process's identity in marks: host, pid and a random part, so a restarted process on the
// same host is another instance.
const std::string& ThisInstance();

}  // namespace rm::mirror
