#include "src-cdc/postgres/migration_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/result.h"

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;

// ---- Statement splitting

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

// At sql[i] == '$': the dollar-quote tag ("$$" or "$tag$"), or empty if this is not one
// (e.g. a positional parameter $1).
std::string DollarTag(std::string_view sql, size_t i) {
  size_t j = i + 1;
  if (j < sql.size() && sql[j] == '$') return "$$";
  if (j >= sql.size() || !IsIdentStart(sql[j])) return "";
  while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) {
    ++j;
  }
  if (j < sql.size() && sql[j] == '$') return std::string(sql.substr(i, j - i + 1));
  return "";
}

// ---- Tokens of one statement

struct Token {
  enum Kind { kWord, kQuoted, kNumber, kString, kPunct } kind;
  std::string text;  // words lower-cased; quoted identifiers as written
};

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 0;
      while (i < s.size()) {
        if (s.substr(i, 2) == "/*") {
          ++depth;
          i += 2;
        } else if (s.substr(i, 2) == "*/") {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '"') {
      std::string v;
      ++i;
      while (i < s.size()) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            v.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        v.push_back(s[i++]);
      }
      out.push_back({Token::kQuoted, v});
    } else if (c == '\'' || ((c == 'e' || c == 'E') && i + 1 < s.size() && s[i + 1] == '\'')) {
      bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      std::string v;
      while (i < s.size()) {
        if (escapes && s[i] == '\\' && i + 1 < s.size()) {
          v.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            v.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        v.push_back(s[i++]);
      }
      out.push_back({Token::kString, v});
    } else if (c == '$' && !DollarTag(s, i).empty()) {
      std::string tag = DollarTag(s, i);
      size_t end = s.find(tag, i + tag.size());
      size_t stop = end == std::string_view::npos ? s.size() : end + tag.size();
      out.push_back({Token::kString, std::string(s.substr(i, stop - i))});
      i = stop;
    } else if (IsIdentStart(c)) {
      size_t start = i;
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      std::string w(s.substr(start, i - start));
      std::transform(w.begin(), w.end(), w.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      out.push_back({Token::kWord, w});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Token::kNumber, std::string(s.substr(start, i - start))});
    } else {
      out.push_back({Token::kPunct, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

// ---- Types

struct TypeSpec {
  std::string base;  // int2, int4, int8, numeric, float4, float8, varchar, bpchar, text, ...
  int a = -1;        // length / precision; -1 = unbounded
  int b = -1;        // scale
  bool array = false;
};

TypeSpec ParseType(const std::vector<Token>& toks) {
  TypeSpec t;
  std::vector<std::string> words;
  std::vector<int> args;
  int depth = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    const auto& tk = toks[i];
    if (tk.kind == Token::kPunct) {
      if (tk.text == "(") ++depth;
      if (tk.text == ")") --depth;
      if (tk.text == "[") t.array = true;
      continue;
    }
    if (depth > 0) {
      if (tk.kind == Token::kNumber) args.push_back(std::atoi(tk.text.c_str()));
      continue;
    }
    if (tk.kind == Token::kWord || tk.kind == Token::kQuoted) {
      if (tk.text == "array") {
        t.array = true;
        continue;
      }
      // A schema-qualified type keeps only its last part.
      if (i + 1 < toks.size() && toks[i + 1].text == ".") continue;
      words.push_back(tk.text);
    }
  }
  std::string name;
  for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
  static const std::map<std::string, std::string> kAliases = {
      {"bigint", "int8"},
      {"int8", "int8"},
      {"bigserial", "int8"},
      {"serial8", "int8"},
      {"integer", "int4"},
      {"int", "int4"},
      {"int4", "int4"},
      {"serial", "int4"},
      {"serial4", "int4"},
      {"smallint", "int2"},
      {"int2", "int2"},
      {"smallserial", "int2"},
      {"character varying", "varchar"},
      {"varchar", "varchar"},
      {"character", "bpchar"},
      {"char", "bpchar"},
      {"bpchar", "bpchar"},
      {"text", "text"},
      {"numeric", "numeric"},
      {"decimal", "numeric"},
      {"real", "float4"},
      {"float4", "float4"},
      {"double precision", "float8"},
      {"float8", "float8"},
      {"float", "float8"},
      {"timestamp with time zone", "timestamptz"},
      {"timestamptz", "timestamptz"},
      {"timestamp without time zone", "timestamp"},
      {"timestamp", "timestamp"},
      {"time with time zone", "timetz"},
      {"timetz", "timetz"},
      {"time without time zone", "time"},
      {"time", "time"},
      {"boolean", "bool"},
      {"bool", "bool"},
  };
  auto it = kAliases.find(name);
  t.base = it == kAliases.end() ? name : it->second;
  if (!args.empty()) t.a = args[0];
  if (args.size() > 1) t.b = args[1];
  if (t.base == "bpchar" && t.a < 0 && name != "bpchar") t.a = 1;  // char = char(1)
  if (t.base == "numeric" && t.a >= 0 && t.b < 0) t.b = 0;
  return t;
}

TypeSpec ParseTypeText(const std::string& text) { return ParseType(Tokenize(text)); }

// How a value of the type appears in change events (see type_map.h).
std::string EventEncoding(const TypeSpec& t) {
  static const std::map<std::string, std::string> kEnc = {
      {"int2", "a JSON integer"},
      {"int4", "a JSON integer"},
      {"int8", "a JSON integer"},
      {"float4", "a JSON number"},
      {"float8", "a JSON number"},
      {"numeric", "a decimal string"},
      {"money", "a decimal string"},
      {"varchar", "a string"},
      {"bpchar", "a string"},
      {"text", "a string"},
      {"uuid", "a string"},
      {"json", "a string"},
      {"jsonb", "a string"},
      {"bool", "a boolean"},
      {"date", "days since epoch"},
      {"timestamp", "an epoch timestamp"},
      {"timestamptz", "an ISO timestamp string"},
      {"time", "time of day"},
      {"timetz", "a time string"},
      {"bytea", "base64"},
  };
  auto it = kEnc.find(t.base);
  std::string enc = it == kEnc.end() ? "a string (" + t.base + ")" : it->second;
  return t.array ? "an array of " + enc : enc;
}

std::string Show(const TypeSpec& t) {
  std::string s = t.base;
  if (t.a >= 0) s += t.b >= 0 ? fmt::format("({},{})", t.a, t.b) : fmt::format("({})", t.a);
  return t.array ? s + "[]" : s;
}

int IntRank(const std::string& b) {
  return b == "int2" ? 1 : b == "int4" ? 2 : b == "int8" ? 3 : 0;
}

bool Bounded(const TypeSpec& t) {
  return t.base == "int2" || t.base == "int4" || t.base == "float4" ||
         ((t.base == "varchar" || t.base == "bpchar" || t.base == "numeric" ||
           t.base == "timestamp" || t.base == "timestamptz") &&
          t.a >= 0);
}

// Why changing `from` to `to` breaks consumers, or nothing when it is safe.
std::optional<std::string> TypeChangeProblem(const std::optional<TypeSpec>& from,
                                             const TypeSpec& to) {
  if (!from) {
    if (Bounded(to)) {
      return fmt::format(
          "changes the type to {} and the current type is unknown (run with the "
          "database reachable): possible narrowing",
          Show(to));
    }
    return std::nullopt;
  }
  const TypeSpec& f = *from;
  std::string change = fmt::format("{} -> {}", Show(f), Show(to));
  if (EventEncoding(f) != EventEncoding(to)) {
    return fmt::format("type change {} changes the event encoding from {} to {}", change,
                       EventEncoding(f), EventEncoding(to));
  }
  bool narrow = false;
  if (IntRank(f.base) && IntRank(to.base)) {
    narrow = IntRank(to.base) < IntRank(f.base);
  } else if (f.base == "float8" && to.base == "float4") {
    narrow = true;
  } else if (f.base == "numeric" && to.base == "numeric") {
    if (to.a >= 0) {
      narrow = f.a < 0 || to.a < f.a || to.b < f.b || (to.a - to.b) < (f.a - f.b);
    }
  } else if ((f.base == "varchar" || f.base == "bpchar" || f.base == "text") &&
             (to.base == "varchar" || to.base == "bpchar")) {
    narrow = to.a >= 0 && (f.base == "text" || f.a < 0 || to.a < f.a);
  } else if (f.base == to.base && (f.base == "timestamp" || f.base == "timestamptz")) {
    narrow = to.a >= 0 && (f.a < 0 || to.a < f.a);
  }
  if (narrow) return "narrows the type " + change + ": existing values may not fit";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ColumnTypeChangeProblem(const std::string& from, const std::string& to) {
  return TypeChangeProblem(ParseTypeText(from), ParseTypeText(to));
}

namespace {

// ---- The model of the captured tables and the checks

struct Model {
  std::vector<CapturedTable> tables;
  std::string publication;

  CapturedTable* Find(const TableName& n) {
    for (auto& t : tables) {
      if (t.name == n) return &t;
    }
    return nullptr;
  }
};

bool IsName(const Token& t) { return t.kind == Token::kWord || t.kind == Token::kQuoted; }

// Reads [schema.]name at `i`.
std::optional<TableName> ReadName(const std::vector<Token>& tk, size_t& i) {
  if (i >= tk.size() || !IsName(tk[i])) return std::nullopt;
  TableName n;
  n.table = tk[i++].text;
  if (i + 1 < tk.size() && tk[i].text == "." && IsName(tk[i + 1])) {
    n.schema = n.table;
    n.table = tk[i + 1].text;
    i += 2;
  }
  return n;
}

bool Word(const std::vector<Token>& tk, size_t i, std::string_view w) {
  return i < tk.size() && tk[i].kind == Token::kWord && tk[i].text == w;
}

bool Contains(const std::vector<Token>& tk, std::string_view w) {
  return std::any_of(tk.begin(), tk.end(),
                     [&](const Token& t) { return t.kind == Token::kWord && t.text == w; });
}

bool Contains2(const std::vector<Token>& tk, std::string_view a, std::string_view b) {
  for (size_t i = 0; i + 1 < tk.size(); ++i) {
    if (Word(tk, i, a) && Word(tk, i + 1, b)) return true;
  }
  return false;
}

bool IsKey(const CapturedTable& t, const std::string& col) {
  return std::find(t.primary_key.begin(), t.primary_key.end(), col) != t.primary_key.end();
}

// Splits tokens at top-level commas.
std::vector<std::vector<Token>> SplitActions(const std::vector<Token>& tk, size_t from) {
  std::vector<std::vector<Token>> out(1);
  int depth = 0;
  for (size_t i = from; i < tk.size(); ++i) {
    if (tk[i].kind == Token::kPunct) {
      if (tk[i].text == "(") ++depth;
      if (tk[i].text == ")") --depth;
      if (tk[i].text == "," && depth == 0) {
        out.emplace_back();
        continue;
      }
    }
    out.back().push_back(tk[i]);
  }
  return out;
}

void CheckAlterAction(CapturedTable& t, const std::vector<Token>& a,
                      std::vector<std::string>& why) {
  const std::string tn = t.name.Qualified();
  size_t i = 0;
  if (Word(a, 0, "alter")) {
    i = Word(a, 1, "column") ? 2 : 1;
    if (i >= a.size() || !IsName(a[i])) return;
    std::string col = a[i++].text;
    if (Word(a, i, "set") && Word(a, i + 1, "not") && Word(a, i + 2, "null")) {
      why.push_back(
          fmt::format("SET NOT NULL on column {} of captured table {}: rows and "
                      "events with NULL already exist downstream, and consumers or "
                      "targets built from the old schema reject the new constraint",
                      col, tn));
      return;
    }
    if (Word(a, i, "set") && Word(a, i + 1, "data")) i += 2;
    if (Word(a, i, "type")) {
      std::vector<Token> type_toks;
      for (size_t j = i + 1; j < a.size() && !Word(a, j, "using") && !Word(a, j, "collate"); ++j) {
        type_toks.push_back(a[j]);
      }
      TypeSpec to = ParseType(type_toks);
      std::optional<TypeSpec> from;
      auto it = t.column_types.find(col);
      if (it != t.column_types.end()) from = ParseTypeText(it->second);
      if (IsKey(t, col) && (!from || Show(*from) != Show(to))) {
        why.push_back(
            fmt::format("changes the type of primary key column {} of captured table "
                        "{} to {}: the Kafka key changes",
                        col, tn, Show(to)));
      } else if (auto p = TypeChangeProblem(from, to)) {
        why.push_back(fmt::format("column {} of captured table {}: {}", col, tn, *p));
      }
      t.column_types[col] = Show(to);
    }
    return;
  }
  if (Word(a, 0, "drop")) {
    if (Word(a, 1, "constraint")) {
      i = 2;
      if (Word(a, i, "if") && Word(a, i + 1, "exists")) i += 2;
      if (i < a.size() && IsName(a[i]) && a[i].text == t.name.table + "_pkey") {
        why.push_back(
            fmt::format("drops the primary key {} of captured table {}: the Kafka key "
                        "and REPLICA IDENTITY DEFAULT depend on it",
                        a[i].text, tn));
      }
      return;
    }
    i = Word(a, 1, "column") ? 2 : 1;
    if (Word(a, i, "if") && Word(a, i + 1, "exists")) i += 2;
    if (i >= a.size() || !IsName(a[i])) return;
    std::string col = a[i].text;
    if (IsKey(t, col)) {
      why.push_back(
          fmt::format("drops primary key column {} of captured table {}: the Kafka "
                      "key changes",
                      col, tn));
    } else {
      why.push_back(
          fmt::format("drops column {} of captured table {}: consumers lose the field", col, tn));
    }
    t.column_types.erase(col);
    return;
  }
  if (Word(a, 0, "add")) {
    if (Contains2(a, "primary", "key")) {
      why.push_back(
          fmt::format("adds a primary key to captured table {}: the Kafka key changes", tn));
      return;
    }
    if (Word(a, 1, "constraint")) return;  // unique, check, foreign keys: no effect on events
    i = Word(a, 1, "column") ? 2 : 1;
    if (Word(a, i, "if") && Word(a, i + 1, "not") && Word(a, i + 2, "exists")) i += 3;
    if (i >= a.size() || !IsName(a[i])) return;
    std::string col = a[i++].text;
    std::vector<Token> type_toks;
    static const std::vector<std::string> kStops = {"not",     "null",     "default", "constraint",
                                                    "check",   "unique",   "primary", "references",
                                                    "collate", "generated"};
    for (; i < a.size(); ++i) {
      if (a[i].kind == Token::kWord &&
          std::find(kStops.begin(), kStops.end(), a[i].text) != kStops.end()) {
        break;
      }
      type_toks.push_back(a[i]);
    }
    if (Contains2(a, "not", "null") && !Contains(a, "default")) {
      why.push_back(
          fmt::format("adds NOT NULL column {} without DEFAULT to captured table {}: "
                      "consumers of earlier events have no value for it",
                      col, tn));
    }
    t.column_types[col] = Show(ParseType(type_toks));
    return;
  }
  if (Word(a, 0, "replica") && Word(a, 1, "identity") && Word(a, 2, "nothing")) {
    why.push_back(
        fmt::format("REPLICA IDENTITY NOTHING on captured table {}: UPDATE and DELETE "
                    "then fail on the published table and events lose their key",
                    tn));
  }
}

void CheckStatement(Model& m, const std::vector<Token>& tk, std::vector<std::string>& why) {
  if (Word(tk, 0, "alter") && Word(tk, 1, "table")) {
    size_t i = 2;
    if (Word(tk, i, "if") && Word(tk, i + 1, "exists")) i += 2;
    if (Word(tk, i, "only")) ++i;
    auto name = ReadName(tk, i);
    if (!name) return;
    if (i < tk.size() && tk[i].text == "*") ++i;
    CapturedTable* t = m.Find(*name);
    if (t == nullptr) return;
    const std::string tn = t->name.Qualified();
    if (Word(tk, i, "rename")) {
      if (Word(tk, i + 1, "to")) {
        why.push_back(
            fmt::format("renames captured table {}: its topic and the capture "
                        "configuration name the old table",
                        tn));
      } else if (Word(tk, i + 1, "constraint")) {
        // Constraint names do not reach events.
      } else {
        size_t c = Word(tk, i + 1, "column") ? i + 2 : i + 1;
        std::string col = c < tk.size() ? tk[c].text : "?";
        why.push_back(
            fmt::format("renames {}column {} of captured table {}: consumers see a "
                        "field disappear and another appear",
                        IsKey(*t, col) ? "primary key " : "", col, tn));
      }
      return;
    }
    if (Word(tk, i, "set") && Word(tk, i + 1, "schema")) {
      why.push_back(
          fmt::format("moves captured table {} to another schema: its topic and the "
                      "capture configuration name the old one",
                      tn));
      return;
    }
    for (const auto& action : SplitActions(tk, i)) CheckAlterAction(*t, action, why);
    return;
  }
  if (Word(tk, 0, "drop") && Word(tk, 1, "table")) {
    size_t i = 2;
    if (Word(tk, i, "if") && Word(tk, i + 1, "exists")) i += 2;
    while (i < tk.size()) {
      auto name = ReadName(tk, i);
      if (!name) break;
      if (m.Find(*name)) {
        why.push_back(fmt::format("drops captured table {}", name->Qualified()));
      }
      if (i < tk.size() && tk[i].text == ",") {
        ++i;
      } else {
        break;
      }
    }
    return;
  }
  if (Word(tk, 0, "drop") && Word(tk, 1, "publication") && !m.publication.empty()) {
    for (const auto& t : tk) {
      if (IsName(t) && t.text == m.publication) {
        why.push_back(fmt::format("drops publication {} used by the capture", m.publication));
      }
    }
    return;
  }
  if (Word(tk, 0, "alter") && Word(tk, 1, "publication") && tk.size() > 2 &&
      tk[2].text == m.publication && (Word(tk, 3, "drop") || Word(tk, 3, "set"))) {
    why.push_back(
        fmt::format("changes the table list of publication {} used by the capture", m.publication));
  }
}

std::string OneLine(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out.size() > 300 ? out.substr(0, 300) + "..." : out;
}

}  // namespace

Result<std::vector<SqlStatement>> SplitSqlStatements(std::string_view sql) {
  std::vector<SqlStatement> out;
  std::string current;
  int line = 1;
  int start_line = 0;  // 0 = no token yet in the current statement
  auto flush = [&] {
    size_t b = current.find_first_not_of(" \t\r\n");
    if (start_line != 0 && b != std::string::npos) {
      size_t e = current.find_last_not_of(" \t\r\n");
      out.push_back({static_cast<int>(out.size()) + 1, start_line, current.substr(b, e - b + 1)});
    }
    current.clear();
    start_line = 0;
  };
  size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    auto copy_until = [&](size_t end) {
      for (size_t k = i; k < end; ++k) {
        if (sql[k] == '\n') ++line;
      }
      current.append(sql.substr(i, end - i));
      i = end;
    };
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      i = end;  // comments are not part of the statement text
      continue;
    }
    if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      int opened = line, depth = 0;
      size_t k = i;
      while (k < sql.size()) {
        if (sql.substr(k, 2) == "/*") {
          ++depth;
          k += 2;
        } else if (sql.substr(k, 2) == "*/") {
          k += 2;
          if (--depth == 0) break;
        } else {
          if (sql[k] == '\n') ++line;
          ++k;
        }
      }
      if (depth != 0) {
        return Error{"sql.parse",
                     fmt::format("unterminated /* comment starting on line {}", opened)};
      }
      i = k;
      current.push_back(' ');
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (c == '\n') ++line;
      current.push_back(c);
      ++i;
      continue;
    }
    if (start_line == 0 && c != ';') start_line = line;
    if (c == ';') {
      ++i;
      flush();
      continue;
    }
    if (c == '\'' || c == '"') {
      bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'e' || sql[i - 1] == 'E') &&
                     (i < 2 || !IsIdentChar(sql[i - 2]));
      int opened = line;
      size_t k = i + 1;
      bool closed = false;
      while (k < sql.size()) {
        if (escapes && sql[k] == '\\') {
          k += 2;
          continue;
        }
        if (sql[k] == c) {
          if (k + 1 < sql.size() && sql[k + 1] == c) {
            k += 2;
            continue;
          }
          closed = true;
          ++k;
          break;
        }
        ++k;
      }
      if (!closed) {
        return Error{"sql.parse", fmt::format("unterminated {} starting on line {}",
                                              c == '"' ? "quoted identifier" : "string", opened)};
      }
      copy_until(k);
      continue;
    }
    if (c == '$') {
      std::string tag = DollarTag(sql, i);
      if (!tag.empty() && (i == 0 || !IsIdentChar(sql[i - 1]))) {
        size_t end = sql.find(tag, i + tag.size());
        if (end == std::string_view::npos) {
          return Error{"sql.parse",
                       fmt::format("unterminated dollar quote {} starting on line {}", tag, line)};
        }
        copy_until(end + tag.size());
        continue;
      }
    }
    current.push_back(c);
    ++i;
  }
  flush();
  return out;
}

std::string MigrationCheckResult::Format() const {
  if (!parse_error.empty()) return "cannot check the migration: " + parse_error + "\n";
  std::string out;
  for (const auto& f : findings) {
    out += fmt::format("statement {} (line {}): {}\n  breaks replication: {}\n", f.statement.number,
                       f.statement.line, OneLine(f.statement.text), f.reason);
  }
  if (findings.empty()) {
    out += fmt::format(
        "ok: none of the {} statement(s) breaks replication of the captured "
        "tables\n",
        statements);
  } else {
    size_t bad = 0;
    int last = 0;
    for (const auto& f : findings) {
      if (f.statement.number != last) ++bad;
      last = f.statement.number;
    }
    out += fmt::format("{} of {} statement(s) would break replication or its consumers\n", bad,
                       statements);
  }
  return out;
}

MigrationCheckResult CheckMigration(std::string_view sql, std::vector<CapturedTable> tables,
                                    const std::string& publication) {
  MigrationCheckResult result;
  auto statements = SplitSqlStatements(sql);
  if (!statements.ok()) {
    result.parse_error = statements.error().message;
    return result;
  }
  result.statements = statements->size();
  Model model{std::move(tables), publication};
  for (const auto& st : *statements) {
    std::vector<std::string> why;
    CheckStatement(model, Tokenize(st.text), why);
    for (auto& w : why) result.findings.push_back({st, std::move(w)});
  }
  return result;
}

Result<std::vector<CapturedTable>> LoadCapturedTables(PgConnection& conn,
                                                      const std::vector<TableName>& tables) {
  std::vector<CapturedTable> out;
  for (const auto& t : tables) {
    CapturedTable ct;
    ct.name = t;
    auto cols = conn.Exec(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE "
        "a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        {t.Quoted()});
    if (!cols.ok()) return cols.error();
    for (const auto& r : cols->rows) ct.column_types[r[0].value_or("")] = r[1].value_or("");
    auto pk = conn.Exec(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
        "a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        {t.Quoted()});
    if (!pk.ok()) return pk.error();
    for (const auto& r : pk->rows) ct.primary_key.push_back(r[0].value_or(""));
    out.push_back(std::move(ct));
  }
  return out;
}

int RunCheckMigration(const std::filesystem::path& sql_file,
                      const std::filesystem::path& config_path, std::ostream& out,
                      bool use_database) {
  PostgresCdcConfig cfg = LoadPostgresCdcConfig(config_path);
  std::ifstream in(sql_file);
  if (!in) {
    out << "cannot read " << sql_file.string() << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<CapturedTable> tables;
  for (const auto& t : cfg.capture.tables) tables.push_back({t, {}, {}});
  if (use_database) {
    auto params = cfg.capture.connection.Resolve(cfg.source_file, "postgres.connection");
    params.application_name = "regionmirror-check-migration";
    auto conn = PgConnection::Connect(params);
    if (conn.ok()) {
      auto loaded = LoadCapturedTables(*conn, cfg.capture.tables);
      if (loaded.ok()) {
        tables = std::move(*loaded);
      } else {
        out << "note: cannot read the current schema (" << loaded.error().message
            << "); checking without primary keys and column types\n";
      }
    } else {
      out << "note: database unreachable (" << conn.error().message
          << "); checking without primary keys and column types\n";
    }
  }
  auto result = CheckMigration(ss.str(), std::move(tables), cfg.capture.publication);
  out << result.Format();
  if (!result.parse_error.empty()) return 2;
  return result.ok() ? 0 : 1;
}

}  // namespace rm::cdc::postgres
