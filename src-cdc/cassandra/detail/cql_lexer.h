// Tokens of the small CQL subset the schema parser understands (CREATE TABLE and types).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rm::cdc::cassandra::detail {

struct CqlToken {
  enum class Kind { kIdentifier, kQuotedIdentifier, kString, kNumber, kUuid, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  // Identifier: lower-cased (CQL folds unquoted names); quoted identifier and string: the
  // unescaped content; symbol: the character; number and uuid: the text as written.
  std::string text;
  int line = 1;
  int column = 1;

  bool IsKeyword(std::string_view lower) const {
    return kind == Kind::kIdentifier && text == lower;
  }
  bool IsSymbol(char c) const { return kind == Kind::kSymbol && text.size() == 1 && text[0] == c; }
  // How the token reads in an error message.
  std::string Describe() const;
};

// Splits CQL text into tokens, dropping whitespace and comments (--, //, /* */). Errors (code
// "cql.parse") name the line and column of an unterminated string, identifier or comment.
common::Result<std::vector<CqlToken>> TokenizeCql(std::string_view text);

}  // namespace rm::cdc::cassandra::detail
