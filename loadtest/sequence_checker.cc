#include "loadtest/sequence_checker.h"

#include <fmt/format.h>

namespace rm::loadtest {

std::string DescribeStream(const StreamId& s) {
  return fmt::format("topic #{} partition {} producer {}", s.topic, s.partition, s.producer);
}

void SequenceChecker::Problem(const std::string& what) {
  if (result_.first_problem.empty()) result_.first_problem = what;
}

SequenceChecker::Outcome SequenceChecker::Observe(const StreamId& stream, uint64_t sequence,
                                                  uint32_t arrived_partition) {
  ++result_.received;
  if (arrived_partition != stream.partition) {
    ++result_.misplaced;
    Problem(fmt::format("{} sequence {} arrived in partition {}", DescribeStream(stream), sequence,
                        arrived_partition));
  }
  State& st = streams_[stream];
  if (sequence == st.next) {
    ++st.next;
    return Outcome::kInOrder;
  }
  if (sequence > st.next) {
    st.gaps[st.next] = sequence;
    st.next = sequence + 1;
    return Outcome::kGap;
  }
  // Below the next expected: a late arrival if it was skipped, else seen before.
  auto it = st.gaps.upper_bound(sequence);
  if (it != st.gaps.begin()) {
    --it;
    auto [start, end] = *it;
    if (sequence < end) {
      st.gaps.erase(it);
      if (start < sequence) st.gaps[start] = sequence;
      if (sequence + 1 < end) st.gaps[sequence + 1] = end;
      ++result_.reordered;
      Problem(fmt::format("{} sequence {} arrived after a later one", DescribeStream(stream),
                          sequence));
      return Outcome::kLate;
    }
  }
  ++result_.duplicates;
  Problem(fmt::format("{} sequence {} arrived again", DescribeStream(stream), sequence));
  return Outcome::kDuplicate;
}

Verification SequenceChecker::Finish(const std::map<StreamId, uint64_t>& sent) const {
  Verification v = result_;
  auto lose = [&v](const StreamId& s, uint64_t from, uint64_t to) {
    if (to <= from) return;
    v.lost += static_cast<int64_t>(to - from);
    if (v.first_problem.empty()) {
      v.first_problem =
          fmt::format("{} sequences {}..{} never arrived", DescribeStream(s), from, to - 1);
    }
  };
  for (const auto& [stream, count] : sent) {
    auto it = streams_.find(stream);
    if (it == streams_.end()) {
      lose(stream, 0, count);
      continue;
    }
    for (const auto& [start, end] : it->second.gaps) lose(stream, start, std::min(end, count));
    lose(stream, it->second.next, count);
  }
  return v;
}

}  // namespace rm::loadtest
