#include "src-cdc/cassandra/cql_type.h"

#include <array>
#include <utility>

#include "src-cdc/cassandra/detail/cql_lexer.h"
#include "src-cdc/cassandra/detail/cql_type_parser.h"

namespace rm::cdc::cassandra {
namespace {

struct NativeName {
  std::string_view name;
  CqlKind kind;
};

constexpr std::array<NativeName, 21> kNativeTypes = {{
    {"ascii", CqlKind::kAscii},         {"text", CqlKind::kText},
    {"varchar", CqlKind::kText},        {"blob", CqlKind::kBlob},
    {"boolean", CqlKind::kBoolean},     {"tinyint", CqlKind::kTinyint},
    {"smallint", CqlKind::kSmallint},   {"int", CqlKind::kInt},
    {"bigint", CqlKind::kBigint},       {"counter", CqlKind::kCounter},
    {"varint", CqlKind::kVarint},       {"float", CqlKind::kFloat},
    {"double", CqlKind::kDouble},       {"decimal", CqlKind::kDecimal},
    {"uuid", CqlKind::kUuid},           {"timeuuid", CqlKind::kTimeuuid},
    {"timestamp", CqlKind::kTimestamp}, {"date", CqlKind::kDate},
    {"time", CqlKind::kTime},           {"inet", CqlKind::kInet},
    {"duration", CqlKind::kDuration},
}};

// Nesting deeper than this is certainly not a real schema; the limit bounds recursion.
constexpr int kMaxTypeDepth = 16;

std::string_view NativeSpelling(CqlKind kind) {
  for (const auto& n : kNativeTypes) {
    if (n.kind == kind) return n.name;
  }
  return "?";
}

common::Result<CqlType> ParseAt(const std::vector<detail::CqlToken>& tokens, size_t* pos, int depth,
                                bool nested) {
  using detail::CqlParseError;
  const detail::CqlToken& tok = tokens[*pos];
  if (depth > kMaxTypeDepth) return CqlParseError(tok, "type nested too deeply");
  if (tok.kind == detail::CqlToken::Kind::kString) {
    return CqlParseError(tok, "custom type " + tok.Describe() + " is not supported");
  }
  if (tok.kind != detail::CqlToken::Kind::kIdentifier) {
    return CqlParseError(tok, "expected a type but found " + tok.Describe());
  }
  ++*pos;
  for (const auto& n : kNativeTypes) {
    if (tok.text == n.name) return CqlType{n.kind, false, {}};
  }

  auto parse_params = [&](size_t count_min, size_t count_max,
                          bool params_nested) -> common::Result<std::vector<CqlType>> {
    if (!tokens[*pos].IsSymbol('<')) {
      return CqlParseError(tokens[*pos], "expected '<' after '" + tok.text + "' but found " +
                                             tokens[*pos].Describe());
    }
    ++*pos;
    std::vector<CqlType> params;
    while (true) {
      auto p = ParseAt(tokens, pos, depth + 1, params_nested);
      if (!p.ok()) return p.error();
      params.push_back(std::move(p).value());
      if (tokens[*pos].IsSymbol(',')) {
        ++*pos;
        continue;
      }
      if (tokens[*pos].IsSymbol('>')) {
        ++*pos;
        break;
      }
      return CqlParseError(tokens[*pos], "expected ',' or '>' in " + tok.text + "<...> but found " +
                                             tokens[*pos].Describe());
    }
    if (params.size() < count_min || params.size() > count_max) {
      return CqlParseError(tok,
                           tok.text + " takes " +
                               (count_min == count_max ? std::to_string(count_min)
                                                       : "at least " + std::to_string(count_min)) +
                               " type parameter(s), got " + std::to_string(params.size()));
    }
    return params;
  };

  if (tok.text == "frozen") {
    auto params = parse_params(1, 1, true);
    if (!params.ok()) return params.error();
    CqlType inner = std::move(params.value()[0]);
    if (inner.IsCollection()) inner.frozen = true;
    return inner;
  }
  if (tok.text == "list" || tok.text == "set" || tok.text == "map") {
    const size_t n = tok.text == "map" ? 2 : 1;
    // Elements of a collection are always frozen values (Cassandra requires frozen<> for nested
    // collections; we accept both spellings and treat them as frozen).
    auto params = parse_params(n, n, true);
    if (!params.ok()) return params.error();
    for (auto& p : params.value()) {
      if (p.kind == CqlKind::kCounter) {
        return CqlParseError(tok, "counters are not allowed inside collections");
      }
    }
    CqlType t;
    t.kind = tok.text == "list"  ? CqlKind::kList
             : tok.text == "set" ? CqlKind::kSet
                                 : CqlKind::kMap;
    t.frozen = nested;
    t.params = std::move(params).value();
    return t;
  }
  if (tok.text == "tuple") {
    auto params = parse_params(1, 1u << 15, true);
    if (!params.ok()) return params.error();
    CqlType t;
    t.kind = CqlKind::kTuple;
    t.frozen = true;
    t.params = std::move(params).value();
    return t;
  }
  return CqlParseError(
      tok, "unknown or unsupported type '" + tok.text + "' (user-defined types are not supported)");
}

}  // namespace

namespace detail {

common::Error CqlParseError(const CqlToken& tok, const std::string& what) {
  return {"cql.parse", "CQL line " + std::to_string(tok.line) + ", column " +
                           std::to_string(tok.column) + ": " + what};
}

common::Result<CqlType> ParseCqlTypeAt(const std::vector<CqlToken>& tokens, size_t* pos) {
  return ParseAt(tokens, pos, 0, false);
}

}  // namespace detail

int CqlType::FixedLength() const {
  switch (kind) {
    case CqlKind::kBoolean:
      return 1;
    case CqlKind::kInt:
    case CqlKind::kFloat:
      return 4;
    case CqlKind::kBigint:
    case CqlKind::kDouble:
    case CqlKind::kTimestamp:
      return 8;
    case CqlKind::kUuid:
    case CqlKind::kTimeuuid:
      return 16;
    default:
      return -1;
  }
}

std::string CqlType::ToString() const {
  std::string inner;
  switch (kind) {
    case CqlKind::kList:
      inner = "list<" + params[0].ToString() + ">";
      break;
    case CqlKind::kSet:
      inner = "set<" + params[0].ToString() + ">";
      break;
    case CqlKind::kMap:
      inner = "map<" + params[0].ToString() + ", " + params[1].ToString() + ">";
      break;
    case CqlKind::kTuple: {
      inner = "tuple<";
      for (size_t i = 0; i < params.size(); ++i) {
        if (i) inner += ", ";
        inner += params[i].ToString();
      }
      return inner + ">";
    }
    default:
      return std::string(NativeSpelling(kind));
  }
  return frozen ? "frozen<" + inner + ">" : inner;
}

common::Result<CqlType> ParseCqlType(std::string_view text) {
  auto tokens = detail::TokenizeCql(text);
  if (!tokens.ok()) return common::Error{"cql.type", tokens.error().message};
  size_t pos = 0;
  auto type = detail::ParseCqlTypeAt(tokens.value(), &pos);
  if (!type.ok()) return common::Error{"cql.type", type.error().message};
  if (tokens.value()[pos].kind != detail::CqlToken::Kind::kEnd) {
    return common::Error{
        "cql.type",
        detail::CqlParseError(tokens.value()[pos],
                              "unexpected " + tokens.value()[pos].Describe() + " after type")
            .message};
  }
  return type;
}

}  // namespace rm::cdc::cassandra
