// SequenceChecker: the verifier's bookkeeping, without Kafka. Each stream (topic, partition,
// producer) must deliver sequence numbers 0, 1, 2, ... exactly once and in that order.
//
// Per stream it keeps the next expected sequence and the ranges skipped so far (a gap is not yet
// a loss: the record may still arrive, late, which counts as reordered). A sequence below the
// next expected that is not in a skipped range was seen before: a duplicate. Finish() compares
// with what the generator sent: skipped ranges still open and records never reached are lost.
// Memory is one small map entry per stream plus one per open gap. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

namespace rm::loadtest {

struct StreamId {
  int topic = 0;  // index into the workload's topics
  uint32_t partition = 0;
  uint32_t producer = 0;
  auto operator<=>(const StreamId&) const = default;
};

struct Verification {
  int64_t received = 0;    // records of ours that arrived, duplicates included
  int64_t lost = 0;        // sent and never arrived
  int64_t duplicates = 0;  // arrived more than once (each extra copy counts)
  int64_t reordered = 0;   // arrived after a later record of its stream
  int64_t misplaced = 0;   // arrived in another partition than it was written to
  int64_t foreign = 0;     // not written by this run (no stamp, unknown producer)
  std::string first_problem;
  bool ok() const { return lost == 0 && duplicates == 0 && reordered == 0 && misplaced == 0; }
};

class SequenceChecker {
 public:
  enum class Outcome { kInOrder, kGap, kLate, kDuplicate };

  // One arrival. `arrived_partition` is where it was read on the target.
  Outcome Observe(const StreamId& stream, uint64_t sequence, uint32_t arrived_partition);
  void ObserveForeign() { ++result_.foreign; }

  // Records of the stream that are still missing, for progress (not final).
  int64_t received() const { return result_.received; }

  // The verdict, given how many records each stream was sent (sequences 0..sent-1).
  Verification Finish(const std::map<StreamId, uint64_t>& sent) const;

 private:
  struct State {
    uint64_t next = 0;
    std::map<uint64_t, uint64_t> gaps;  // start -> end (exclusive) of skipped sequences
  };
  void Problem(const std::string& what);

  std::map<StreamId, State> streams_;
  Verification result_;
};

std::string DescribeStream(const StreamId& s);

}  // namespace rm::loadtest
