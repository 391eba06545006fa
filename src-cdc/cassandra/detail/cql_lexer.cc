#include "src-cdc/cassandra/detail/cql_lexer.h"

#include <cctype>

namespace rm::cdc::cassandra::detail {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// True when text[i..] starts with an unquoted UUID literal (8-4-4-4-12 hex digits) that is not
// followed by more identifier characters.
bool UuidAt(std::string_view text, size_t i) {
  if (text.size() - i < 36) return false;
  for (size_t k = 0; k < 36; ++k) {
    const char c = text[i + k];
    const bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? c != '-' : !IsHex(c)) return false;
  }
  return text.size() - i == 36 || !IsIdentChar(text[i + 36]);
}

common::Error LexError(int line, int column, const std::string& what) {
  return {"cql.parse",
          "CQL line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what};
}

}  // namespace

std::string CqlToken::Describe() const {
  switch (kind) {
    case Kind::kEnd:
      return "end of input";
    case Kind::kString:
      return "string '" + text + "'";
    case Kind::kQuotedIdentifier:
      return "\"" + text + "\"";
    default:
      return "'" + text + "'";
  }
}

common::Result<std::vector<CqlToken>> TokenizeCql(std::string_view text) {
  std::vector<CqlToken> tokens;
  int line = 1;
  size_t line_start = 0;
  size_t i = 0;
  auto column = [&](size_t pos) { return static_cast<int>(pos - line_start) + 1; };
  auto advance_newlines = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k) {
      if (text[k] == '\n') {
        ++line;
        line_start = k + 1;
      }
    }
  };

  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if ((c == '-' && i + 1 < text.size() && text[i + 1] == '-') ||
        (c == '/' && i + 1 < text.size() && text[i + 1] == '/')) {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const size_t end = text.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return LexError(line, column(i), "unterminated /* comment");
      }
      advance_newlines(i, end);
      i = end + 2;
      continue;
    }

    CqlToken tok;
    tok.line = line;
    tok.column = column(i);
    if (UuidAt(text, i)) {
      tok.kind = CqlToken::Kind::kUuid;
      tok.text = std::string(text.substr(i, 36));
      i += 36;
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < text.size() && IsIdentChar(text[j])) ++j;
      tok.kind = CqlToken::Kind::kIdentifier;
      for (size_t k = i; k < j; ++k) {
        tok.text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[k]))));
      }
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      size_t j = i + 1;
      while (j < text.size() &&
             (IsIdentChar(text[j]) || text[j] == '.' || text[j] == '-' || text[j] == '+')) {
        ++j;
      }
      tok.kind = CqlToken::Kind::kNumber;
      tok.text = std::string(text.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      // Quoted identifier or string literal; a doubled quote stands for one.
      const char quote = c;
      std::string value;
      size_t j = i + 1;
      bool closed = false;
      while (j < text.size()) {
        if (text[j] == quote) {
          if (j + 1 < text.size() && text[j + 1] == quote) {
            value.push_back(quote);
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        value.push_back(text[j++]);
      }
      if (!closed) {
        return LexError(
            line, column(i),
            quote == '"' ? "unterminated quoted identifier" : "unterminated string literal");
      }
      advance_newlines(i, j);
      tok.kind = quote == '"' ? CqlToken::Kind::kQuotedIdentifier : CqlToken::Kind::kString;
      tok.text = std::move(value);
      i = j + 1;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      const size_t end = text.find("$$", i + 2);
      if (end == std::string_view::npos) {
        return LexError(line, column(i), "unterminated $$ string literal");
      }
      tok.kind = CqlToken::Kind::kString;
      tok.text = std::string(text.substr(i + 2, end - i - 2));
      advance_newlines(i, end);
      i = end + 2;
    } else if (std::string_view("(),.;<>=:{}[]*+-").find(c) != std::string_view::npos) {
      tok.kind = CqlToken::Kind::kSymbol;
      tok.text = std::string(1, c);
      ++i;
    } else {
      return LexError(line, column(i), std::string("unexpected character '") + c + "'");
    }
    tokens.push_back(std::move(tok));
  }
  CqlToken end;
  end.kind = CqlToken::Kind::kEnd;
  end.line = line;
  end.column = column(i);
  tokens.push_back(std::move(end));
  return tokens;
}

}  // namespace rm::cdc::cassandra::detail
