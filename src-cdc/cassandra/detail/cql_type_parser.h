// Shared by ParseCqlType and the CREATE TABLE parser: parses one type starting at tokens[*pos].
#pragma once

#include <cstddef>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/cql_type.h"
#include "src-cdc/cassandra/detail/cql_lexer.h"

namespace rm::cdc::cassandra::detail {

// On success *pos is just past the type. Errors name the token's line and column.
common::Result<CqlType> ParseCqlTypeAt(const std::vector<CqlToken>& tokens, size_t* pos);

// "CQL line L, column C: <what>" for a parse error at `tok`.
common::Error CqlParseError(const CqlToken& tok, const std::string& what);

}  // namespace rm::cdc::cassandra::detail
