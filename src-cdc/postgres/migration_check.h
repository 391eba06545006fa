// Migration checker: reads migration SQL before it is applied and names each statement that
// would break the replication of the captured tables or the consumers of their events.
//
// Breaking (on a captured table):
//   - ALTER COLUMN ... SET NOT NULL
//   - ALTER COLUMN ... TYPE that narrows (bigint -> int, text -> varchar(n), varchar(n) ->
//     varchar(m<n), numeric precision or scale lowered, double -> real, numeric -> int) or
//     changes how the value is encoded in events (e.g. int -> numeric: number -> string)
//   - dropping, retyping or renaming a primary key column; DROP CONSTRAINT <table>_pkey;
//     ADD PRIMARY KEY (the Kafka key changes)
//   - DROP COLUMN (consumers lose a field), ADD COLUMN ... NOT NULL without DEFAULT
//   - DROP TABLE, RENAME TO, SET SCHEMA, RENAME COLUMN
//   - REPLICA IDENTITY NOTHING (updates and deletes then fail on a published table)
//   - DROP PUBLICATION of the capture's publication
// Safe: new tables, indexes, nullable columns (or NOT NULL with a DEFAULT), statements on
// other tables, widening type changes (int -> bigint, varchar(n) -> text).
//
// Unqualified table names are taken to be in schema public. Column types of the captured
// tables come from the database when it is reachable (LoadCapturedTables); without them a
// type change to a bounded type is reported as a possible narrowing. The migration's own
// statements update the model as they go (a column added then narrowed is still checked).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/replication.h"

namespace rm::cdc::postgres {

struct SqlStatement {
  int number = 0;  // 1-based
  int line = 0;    // line of its first token
  std::string text;
};

// Splits SQL into statements on top-level ';', honouring '...' (with '' and E'\''), "...",
// $tag$...$tag$, -- and nested /* */ comments. Error "sql.parse" for an unterminated quote,
// dollar quote or comment (naming its line).
common::Result<std::vector<SqlStatement>> SplitSqlStatements(std::string_view sql);

struct CapturedTable {
  TableName name;
  std::vector<std::string> primary_key;             // column names; empty if unknown
  std::map<std::string, std::string> column_types;  // name -> format_type(), may be empty
};

struct MigrationFinding {
  SqlStatement statement;
  std::string reason;
};

struct MigrationCheckResult {
  size_t statements = 0;
  std::vector<MigrationFinding> findings;
  std::string parse_error;  // non-empty when the SQL could not be split
  bool ok() const { return findings.empty() && parse_error.empty(); }
  // "statement 3 (line 12): ALTER TABLE ...\n  breaks replication: ...".
  std::string Format() const;
};

MigrationCheckResult CheckMigration(std::string_view sql, std::vector<CapturedTable> tables,
                                    const std::string& publication = "");

// The checker's type rule, on type texts as format_type() prints them ("integer",
// "character varying(20)"): why changing a column from `from` to `to` breaks consumers (it
// narrows, or changes how values are written in events), or nothing when it is safe. The
// capture's run-time guard (schema_guard.h) applies the same rule to the shapes it sees.
std::optional<std::string> ColumnTypeChangeProblem(const std::string& from, const std::string& to);

// Primary keys and column types of `tables` from the database.
common::Result<std::vector<CapturedTable>> LoadCapturedTables(PgConnection& conn,
                                                              const std::vector<TableName>& tables);

// CLI entry point (`regionmirror cdc check-migration FILE.sql --config F`): captured tables
// and publication from the config; their keys and column types from the database when
// `use_database` (the capture connection; falls back to the config alone, saying so, when
// unreachable). Prints the findings to `out`. Returns 0 when safe, 1 when some statement
// breaks replication, 2 when the SQL cannot be parsed or read. Throws ConfigError.
int RunCheckMigration(const std::filesystem::path& sql_file,
                      const std::filesystem::path& config_path, std::ostream& out,
                      bool use_database = true);

}  // namespace rm::cdc::postgres
