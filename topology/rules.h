// Topic rules compiled for matching, with the precedence of config.h's TopicRule applied.
//
// Immutable after construction; Match may be called from any number of threads.
#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "topology/config.h"

namespace rm::topology {

// The characters every full match of the ECMAScript regex `re` starts with: "pii\.users\..*"
// -> "pii.users.", "logs-[0-9]+" -> "logs-", "ab?c" -> "a", "a|b" -> "". Conservative: when in
// doubt it stops, so the result is always a prefix of every match.
std::string LiteralPrefix(const std::string& re);

// A regex that fully matches exactly `name`.
std::string EscapeRegex(const std::string& name);

class TopicRuleSet {
 public:
  // Two rules that could both be the winner for some name.
  struct Ambiguity {
    size_t first = 0;  // indexes in the rule list
    size_t second = 0;
    // A name both match, when one was found; empty when they merely cannot be told apart.
    std::string example;
  };

  // Rules whose pattern is not a valid regex never match (the validator reports them).
  explicit TopicRuleSet(const std::vector<TopicRule>& rules);

  // The index of the winning rule for `name` (as written in its home region), if any.
  std::optional<size_t> Match(const std::string& name) const;
  // True if rule `i` matches `name` (ignoring precedence).
  bool RuleMatches(size_t i, const std::string& name) const;
  // True if rule `a` ranks strictly above rule `b` (steps 1-3 of the precedence).
  bool Outranks(size_t a, size_t b) const;
  // True if some name could match both rules: decided exactly for literals and for patterns
  // whose literal prefixes rule it out; otherwise assumed possible.
  bool CouldOverlap(size_t a, size_t b) const;
  // Pairs of equal-ranked rules that could both match one name (step 4). `names` are extra
  // names to try as examples (literal topics elsewhere in the file).
  std::vector<Ambiguity> FindAmbiguities(const std::vector<std::string>& names) const;
  // Whether rule `i`'s pattern compiled; the regex error otherwise.
  const std::string& RegexError(size_t i) const { return compiled_[i].error; }
  const std::string& Prefix(size_t i) const { return compiled_[i].prefix; }
  // The rule as a regex: its pattern, or its escaped literal name.
  std::string AsRegex(size_t i) const;
  size_t size() const { return compiled_.size(); }
  const TopicRule& rule(size_t i) const { return rules_[i]; }

 private:
  struct Compiled {
    std::optional<std::regex> re;
    std::string prefix;
    std::string error;
  };
  std::vector<TopicRule> rules_;
  std::vector<Compiled> compiled_;
  // Literal rules by name (the first, when a name has two: that is an ambiguity anyway).
  std::unordered_map<std::string, size_t> literals_;
  // Pattern rules, highest rank first (ties in file order; validation rejects real ties).
  std::vector<size_t> patterns_by_rank_;
};

}  // namespace rm::topology
