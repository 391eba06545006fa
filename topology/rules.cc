#include "topology/rules.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <tuple>

namespace rm::topology {

namespace {

constexpr const char* kRegexSpecial = "^$.|?*+()[]{}\\";

// True when `re` has a '|' outside brackets and groups: its matches need not share a prefix.
bool HasTopLevelAlternation(const std::string& re) {
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      return true;
    }
  }
  return false;
}

// Extra endings tried after a shared prefix when looking for a name two patterns both match.
const std::vector<std::string>& SampleSuffixes() {
  static const std::vector<std::string> kSuffixes = {
      "", "x", "a", "z", "0", "1", "9", "-", "_", ".", "x.y", "a-b", "a_b", "0-0", "v1", "X", "AB"};
  return kSuffixes;
}

}  // namespace

std::string LiteralPrefix(const std::string& re) {
  if (HasTopLevelAlternation(re)) return "";
  std::string out;
  size_t i = (!re.empty() && re[0] == '^') ? 1 : 0;
  while (i < re.size()) {
    char lit;
    size_t next;
    if (re[i] == '\\') {
      // "\." is a literal dot; "\d", "\w", "\b", "\0", "\x41" are classes or escapes we do not
      // decode: stop there.
      if (i + 1 >= re.size() || std::isalnum(static_cast<unsigned char>(re[i + 1]))) break;
      lit = re[i + 1];
      next = i + 2;
    } else if (std::strchr(kRegexSpecial, re[i]) != nullptr) {
      break;
    } else {
      lit = re[i];
      next = i + 1;
    }
    if (next < re.size()) {
      char q = re[next];
      // The character may be absent ("ab?", "ab*", "ab{0,2}"): it is not in every match.
      if (q == '?' || q == '*' || q == '{') break;
      // "ab+" starts with "ab", but what follows is a repetition.
      if (q == '+') {
        out.push_back(lit);
        break;
      }
    }
    out.push_back(lit);
    i = next;
  }
  return out;
}

std::string EscapeRegex(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::strchr(kRegexSpecial, c) != nullptr) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

TopicRuleSet::TopicRuleSet(const std::vector<TopicRule>& rules) : rules_(rules) {
  compiled_.resize(rules_.size());
  for (size_t i = 0; i < rules_.size(); ++i) {
    const TopicRule& r = rules_[i];
    Compiled& c = compiled_[i];
    if (r.is_literal()) {
      c.prefix = r.topic;
      literals_.emplace(r.topic, i);
      continue;
    }
    if (r.pattern.empty()) continue;
    try {
      c.re.emplace(r.pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      c.error = e.what();
      continue;
    }
    c.prefix = LiteralPrefix(r.pattern);
    patterns_by_rank_.push_back(i);
  }
  std::stable_sort(patterns_by_rank_.begin(), patterns_by_rank_.end(),
                   [this](size_t a, size_t b) { return Outranks(a, b); });
}

bool TopicRuleSet::RuleMatches(size_t i, const std::string& name) const {
  const TopicRule& r = rules_[i];
  if (r.is_literal()) return r.topic == name;
  const Compiled& c = compiled_[i];
  if (!c.re) return false;
  // The prefix test is cheap and rejects most names before the regex runs.
  if (name.compare(0, c.prefix.size(), c.prefix) != 0) return false;
  return std::regex_match(name, *c.re);
}

std::optional<size_t> TopicRuleSet::Match(const std::string& name) const {
  if (auto it = literals_.find(name); it != literals_.end()) return it->second;
  for (size_t i : patterns_by_rank_) {
    if (RuleMatches(i, name)) return i;
  }
  return std::nullopt;
}

bool TopicRuleSet::Outranks(size_t a, size_t b) const {
  const TopicRule& ra = rules_[a];
  const TopicRule& rb = rules_[b];
  if (ra.is_literal() || rb.is_literal()) return ra.is_literal() && !rb.is_literal();
  return std::make_tuple(ra.priority, compiled_[a].prefix.size()) >
         std::make_tuple(rb.priority, compiled_[b].prefix.size());
}

bool TopicRuleSet::CouldOverlap(size_t a, size_t b) const {
  const TopicRule& ra = rules_[a];
  const TopicRule& rb = rules_[b];
  if (ra.is_literal()) return RuleMatches(b, ra.topic);
  if (rb.is_literal()) return RuleMatches(a, rb.topic);
  if (!compiled_[a].re || !compiled_[b].re) return false;
  const std::string& pa = compiled_[a].prefix;
  const std::string& pb = compiled_[b].prefix;
  // Every match of a starts with pa, every match of b with pb: one must extend the other.
  const std::string& shorter = pa.size() <= pb.size() ? pa : pb;
  const std::string& longer = pa.size() <= pb.size() ? pb : pa;
  return longer.compare(0, shorter.size(), shorter) == 0;
}

std::vector<TopicRuleSet::Ambiguity> TopicRuleSet::FindAmbiguities(
    const std::vector<std::string>& names) const {
  std::vector<Ambiguity> out;
  for (size_t a = 0; a < rules_.size(); ++a) {
    for (size_t b = a + 1; b < rules_.size(); ++b) {
      const TopicRule& ra = rules_[a];
      const TopicRule& rb = rules_[b];
      if (ra.is_literal() != rb.is_literal()) continue;  // step 1 decides
      if (ra.is_literal()) {
        if (ra.topic == rb.topic) out.push_back({a, b, ra.topic});
        continue;
      }
      if (!compiled_[a].re || !compiled_[b].re) continue;
      if (Outranks(a, b) || Outranks(b, a)) continue;  // steps 2-3 decide
      // Equal priority and equal prefix length: different prefixes cannot both start a name.
      if (compiled_[a].prefix != compiled_[b].prefix) continue;
      Ambiguity amb{a, b, ""};
      std::vector<std::string> tries = names;
      for (const auto& s : SampleSuffixes()) tries.push_back(compiled_[a].prefix + s);
      for (const auto& n : tries) {
        if (RuleMatches(a, n) && RuleMatches(b, n)) {
          amb.example = n;
          break;
        }
      }
      out.push_back(std::move(amb));
    }
  }
  return out;
}

std::string TopicRuleSet::AsRegex(size_t i) const {
  const TopicRule& r = rules_[i];
  return r.is_literal() ? EscapeRegex(r.topic) : r.pattern;
}

}  // namespace rm::topology
