// What each generated record carries at the start of its value, so the verifier on the target
// can check exactly-once and order, and measure latency without trusting the brokers' or the
// mirror's timestamps (the testbed's delivery reports carry a fake one):
//
//   offset  size  field
//        0     4  magic "RMLT"
//        4     4  producer id (little-endian, as all fields)
//        8     4  partition the generator wrote to (the mirror copies partition for partition)
//       12     4  reserved, 0
//       16     8  sequence number within (producer, partition), from 0 without gaps
//       24     8  intended send time, ns on the steady clock of the generating process
//       32     8  actual send time (just before the produce call), same clock
//
// The rest of the value is the workload's payload. Times are on this process's steady clock:
// the generator and the verifier always run in the same harness process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm::loadtest {

inline constexpr size_t kRecordHeaderSize = 40;

struct RecordStamp {
  uint32_t producer = 0;
  uint32_t partition = 0;
  uint64_t sequence = 0;
  int64_t intended_ns = 0;
  int64_t sent_ns = 0;
};

// Writes the stamp over the first kRecordHeaderSize bytes of `value` (which must be at least
// that long).
void StampRecord(const RecordStamp& stamp, std::string& value);
// Reads a stamp; nullopt for a value that is too short or lacks the magic (not ours).
std::optional<RecordStamp> ReadStamp(std::string_view value);

}  // namespace rm::loadtest
