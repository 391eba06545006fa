#include "src-cdc/cassandra/table_schema.h"

#include <algorithm>
#include <set>
#include <utility>

#include "src-cdc/cassandra/detail/cql_lexer.h"
#include "src-cdc/cassandra/detail/cql_type_parser.h"

namespace rm::cdc::cassandra {
namespace {

using detail::CqlParseError;
using detail::CqlToken;
using TokenKind = detail::CqlToken::Kind;

common::Error SchemaError(const std::string& table, const std::string& what) {
  return {"cql.schema", "CREATE TABLE " + table + ": " + what};
}

// Recursive-descent parser over the token vector of one script.
class CreateTableParser {
 public:
  explicit CreateTableParser(const std::vector<CqlToken>& tokens) : t_(tokens) {}

  bool AtEnd() const { return t_[pos_].kind == TokenKind::kEnd; }
  bool SkipSemicolons() {
    bool any = false;
    while (t_[pos_].IsSymbol(';')) {
      ++pos_;
      any = true;
    }
    return any;
  }
  const CqlToken& Peek(size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }

  common::Result<TableSchema> ParseStatement() {
    const CqlToken& first = Peek();
    if (!first.IsKeyword("create")) {
      return CqlParseError(first, "expected CREATE TABLE but found " + first.Describe());
    }
    ++pos_;
    if (!Peek().IsKeyword("table") && !Peek().IsKeyword("columnfamily")) {
      return CqlParseError(
          Peek(), "only CREATE TABLE statements are supported, found CREATE " + Peek().Describe());
    }
    ++pos_;
    if (Peek().IsKeyword("if")) {
      if (!Peek(1).IsKeyword("not") || !Peek(2).IsKeyword("exists")) {
        return CqlParseError(Peek(), "expected IF NOT EXISTS");
      }
      pos_ += 3;
    }

    TableSchema table;
    const CqlToken& name_tok = Peek();
    auto first_name = Name("table name");
    if (!first_name.ok()) return first_name.error();
    if (!Peek().IsSymbol('.')) {
      return CqlParseError(name_tok, "table name '" + first_name.value() +
                                         "' must be qualified with its keyspace (keyspace.table)");
    }
    ++pos_;
    auto second_name = Name("table name");
    if (!second_name.ok()) return second_name.error();
    table.keyspace = std::move(first_name).value();
    table.name = std::move(second_name).value();
    const std::string qualified = table.QualifiedName();

    if (auto s = Expect('('); !s.ok()) return s.error();

    std::vector<std::string> inline_pk;
    std::vector<std::vector<std::string>> pk_clause;  // [partition columns, clustering columns]
    bool have_pk_clause = false;
    std::set<std::string> static_names;
    while (true) {
      if (Peek().IsKeyword("primary") && Peek(1).IsKeyword("key")) {
        if (have_pk_clause) return CqlParseError(Peek(), "PRIMARY KEY declared twice");
        pos_ += 2;
        auto pk = PrimaryKeyClause();
        if (!pk.ok()) return pk.error();
        pk_clause = std::move(pk).value();
        have_pk_clause = true;
      } else {
        const CqlToken& col_tok = Peek();
        auto col_name = Name("column name");
        if (!col_name.ok()) return col_name.error();
        if (table.FindColumn(col_name.value()) != nullptr) {
          return CqlParseError(col_tok, "column '" + col_name.value() + "' declared twice");
        }
        auto type = detail::ParseCqlTypeAt(t_, &pos_);
        if (!type.ok()) return type.error();
        ColumnSchema col;
        col.name = col_name.value();
        col.type = std::move(type).value();
        while (true) {
          if (Peek().IsKeyword("static")) {
            static_names.insert(col.name);
            ++pos_;
          } else if (Peek().IsKeyword("primary") && Peek(1).IsKeyword("key")) {
            inline_pk.push_back(col.name);
            pos_ += 2;
          } else {
            break;
          }
        }
        table.columns.push_back(std::move(col));
      }
      if (Peek().IsSymbol(',')) {
        ++pos_;
        if (Peek().IsSymbol(')')) break;  // tolerate a trailing comma
        continue;
      }
      if (Peek().IsSymbol(')')) break;
      return CqlParseError(Peek(),
                           "expected ',' or ')' in the column list but found " + Peek().Describe());
    }
    ++pos_;  // ')'

    std::vector<std::pair<std::string, bool>> clustering_order;
    if (Peek().IsKeyword("with")) {
      ++pos_;
      while (true) {
        auto s = Option(&table, &clustering_order);
        if (!s.ok()) return s.error();
        if (Peek().IsKeyword("and")) {
          ++pos_;
          continue;
        }
        break;
      }
    }
    if (!Peek().IsSymbol(';') && !AtEnd()) {
      return CqlParseError(Peek(),
                           "unexpected " + Peek().Describe() + " after CREATE TABLE " + qualified);
    }

    // Primary key.
    if (table.columns.empty()) return SchemaError(qualified, "no columns");
    if (!inline_pk.empty() && have_pk_clause) {
      return SchemaError(qualified, "PRIMARY KEY given both on column '" + inline_pk[0] +
                                        "' and as a separate clause");
    }
    if (inline_pk.size() > 1) {
      return SchemaError(qualified, "more than one column is marked PRIMARY KEY ('" + inline_pk[0] +
                                        "', '" + inline_pk[1] + "')");
    }
    if (inline_pk.empty() && !have_pk_clause) return SchemaError(qualified, "no PRIMARY KEY");
    if (!inline_pk.empty()) pk_clause = {inline_pk, {}};

    std::set<std::string> key_names;
    for (size_t part = 0; part < 2; ++part) {
      for (size_t i = 0; i < pk_clause[part].size(); ++i) {
        const std::string& n = pk_clause[part][i];
        const auto it = std::find_if(table.columns.begin(), table.columns.end(),
                                     [&](const ColumnSchema& c) { return c.name == n; });
        if (it == table.columns.end()) {
          return SchemaError(qualified, "PRIMARY KEY names unknown column '" + n + "'");
        }
        if (!key_names.insert(n).second) {
          return SchemaError(qualified, "column '" + n + "' appears twice in PRIMARY KEY");
        }
        if (it->type.IsMultiCell()) {
          return SchemaError(qualified,
                             "key column '" + n + "' has non-frozen type " + it->type.ToString());
        }
        if (it->type.kind == CqlKind::kCounter) {
          return SchemaError(qualified, "key column '" + n + "' cannot be a counter");
        }
        it->kind = part == 0 ? ColumnKind::kPartitionKey : ColumnKind::kClustering;
        it->key_index = static_cast<int>(i);
        (part == 0 ? table.partition_key : table.clustering)
            .push_back(static_cast<int>(it - table.columns.begin()));
      }
    }
    bool any_counter = false;
    bool any_non_counter = false;
    for (auto& col : table.columns) {
      if (static_names.count(col.name)) {
        if (col.kind != ColumnKind::kRegular) {
          return SchemaError(qualified, "key column '" + col.name + "' cannot be STATIC");
        }
        if (table.clustering.empty()) {
          return SchemaError(
              qualified, "static column '" + col.name + "' needs a table with clustering columns");
        }
        col.kind = ColumnKind::kStatic;
      }
      if (col.kind == ColumnKind::kRegular || col.kind == ColumnKind::kStatic) {
        (col.type.kind == CqlKind::kCounter ? any_counter : any_non_counter) = true;
      }
    }
    if (any_counter && any_non_counter) {
      return SchemaError(qualified, "counter and non-counter columns cannot be mixed");
    }
    for (const auto& order : clustering_order) {
      const std::string& name = order.first;
      const bool desc = order.second;
      auto it = std::find_if(table.columns.begin(), table.columns.end(),
                             [&](const ColumnSchema& c) { return c.name == name; });
      ColumnSchema* col = it == table.columns.end() ? nullptr : &*it;
      if (col == nullptr || col->kind != ColumnKind::kClustering) {
        return SchemaError(qualified, "CLUSTERING ORDER BY names '" + name +
                                          "', which is not a clustering column");
      }
      col->descending = desc;
    }
    return table;
  }

 private:
  common::Status Expect(char c) {
    if (!Peek().IsSymbol(c)) {
      return CqlParseError(Peek(),
                           std::string("expected '") + c + "' but found " + Peek().Describe());
    }
    ++pos_;
    return common::Status::Ok();
  }

  common::Result<std::string> Name(const char* what) {
    const CqlToken& tok = Peek();
    if (tok.kind == TokenKind::kIdentifier || tok.kind == TokenKind::kQuotedIdentifier) {
      ++pos_;
      return tok.text;
    }
    return CqlParseError(tok, std::string("expected a ") + what + " but found " + tok.Describe());
  }

  // After PRIMARY KEY: '(' (name | '(' name, ... ')') [, name ...] ')'
  common::Result<std::vector<std::vector<std::string>>> PrimaryKeyClause() {
    if (auto s = Expect('('); !s.ok()) return s.error();
    std::vector<std::vector<std::string>> parts(2);
    if (Peek().IsSymbol('(')) {
      ++pos_;
      while (true) {
        auto n = Name("partition key column");
        if (!n.ok()) return n.error();
        parts[0].push_back(std::move(n).value());
        if (Peek().IsSymbol(',')) {
          ++pos_;
          continue;
        }
        if (auto s = Expect(')'); !s.ok()) return s.error();
        break;
      }
    } else {
      auto n = Name("partition key column");
      if (!n.ok()) return n.error();
      parts[0].push_back(std::move(n).value());
    }
    while (Peek().IsSymbol(',')) {
      ++pos_;
      auto n = Name("clustering column");
      if (!n.ok()) return n.error();
      parts[1].push_back(std::move(n).value());
    }
    if (auto s = Expect(')'); !s.ok()) return s.error();
    return parts;
  }

  // One WITH option.
  common::Status Option(TableSchema* table,
                        std::vector<std::pair<std::string, bool>>* clustering_order) {
    if (Peek().IsKeyword("clustering") && Peek(1).IsKeyword("order")) {
      pos_ += 2;
      if (!Peek().IsKeyword("by"))
        return CqlParseError(Peek(), "expected BY after CLUSTERING ORDER");
      ++pos_;
      if (auto s = Expect('('); !s.ok()) return s;
      while (true) {
        auto n = Name("clustering column");
        if (!n.ok()) return n.error();
        bool desc = false;
        if (Peek().IsKeyword("desc")) {
          desc = true;
          ++pos_;
        } else if (Peek().IsKeyword("asc")) {
          ++pos_;
        }
        clustering_order->emplace_back(std::move(n).value(), desc);
        if (Peek().IsSymbol(',')) {
          ++pos_;
          continue;
        }
        return Expect(')');
      }
    }
    if (Peek().IsKeyword("compact") && Peek(1).IsKeyword("storage")) {
      pos_ += 2;
      return common::Status::Ok();
    }
    const CqlToken& opt = Peek();
    if (opt.kind != TokenKind::kIdentifier) {
      return CqlParseError(opt, "expected a table option but found " + opt.Describe());
    }
    ++pos_;
    if (auto s = Expect('='); !s.ok()) return s;
    const CqlToken& value = Peek();
    if (opt.text == "id") {
      std::optional<Uuid> id;
      if (value.kind == TokenKind::kUuid || value.kind == TokenKind::kString) {
        id = Uuid::Parse(value.text);
      }
      if (!id) return CqlParseError(value, "ID must be a UUID, found " + value.Describe());
      table->id = *id;
      ++pos_;
      return common::Status::Ok();
    }
    if (opt.text == "cdc") {
      std::string v = value.text;
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if ((value.kind != TokenKind::kIdentifier && value.kind != TokenKind::kString) ||
          (v != "true" && v != "false")) {
        return CqlParseError(value, "cdc must be true or false, found " + value.Describe());
      }
      table->cdc = v == "true";
      ++pos_;
      return common::Status::Ok();
    }
    return SkipValue();
  }

  // Any other option's value: a literal, or a {...} / [...] literal with nested brackets.
  common::Status SkipValue() {
    const CqlToken& v = Peek();
    if (v.IsSymbol('{') || v.IsSymbol('[')) {
      int depth = 0;
      do {
        if (AtEnd()) return CqlParseError(Peek(), "unterminated option value");
        if (Peek().IsSymbol('{') || Peek().IsSymbol('[')) ++depth;
        if (Peek().IsSymbol('}') || Peek().IsSymbol(']')) --depth;
        ++pos_;
      } while (depth > 0);
      return common::Status::Ok();
    }
    if (v.kind == TokenKind::kString || v.kind == TokenKind::kNumber ||
        v.kind == TokenKind::kIdentifier || v.kind == TokenKind::kUuid) {
      ++pos_;
      return common::Status::Ok();
    }
    return CqlParseError(v, "expected an option value but found " + v.Describe());
  }

  const std::vector<CqlToken>& t_;
  size_t pos_ = 0;
};

}  // namespace

const ColumnSchema* TableSchema::FindColumn(std::string_view column_name) const {
  for (const auto& c : columns) {
    if (c.name == column_name) return &c;
  }
  return nullptr;
}

std::vector<CqlType> TableSchema::PartitionKeyTypes() const {
  std::vector<CqlType> out;
  for (int i : partition_key) out.push_back(columns[static_cast<size_t>(i)].type);
  return out;
}

common::Result<TableSchema> ParseCreateTable(std::string_view statement) {
  auto tables = ParseCreateTables(statement);
  if (!tables.ok()) return tables.error();
  if (tables.value().size() != 1) {
    return common::Error{"cql.parse", "expected exactly one CREATE TABLE statement, found " +
                                          std::to_string(tables.value().size())};
  }
  return std::move(tables.value()[0]);
}

common::Result<std::vector<TableSchema>> ParseCreateTables(std::string_view script) {
  auto tokens = detail::TokenizeCql(script);
  if (!tokens.ok()) return tokens.error();
  CreateTableParser parser(tokens.value());
  std::vector<TableSchema> out;
  parser.SkipSemicolons();
  while (!parser.AtEnd()) {
    auto table = parser.ParseStatement();
    if (!table.ok()) return table.error();
    out.push_back(std::move(table).value());
    if (!parser.SkipSemicolons() && !parser.AtEnd()) {
      return CqlParseError(parser.Peek(), "expected ';' between statements");
    }
  }
  return out;
}

common::Status Schema::AddTable(TableSchema table, std::optional<TableId> id) {
  if (id) table.id = id;
  if (!table.id) {
    return common::Error{"cql.schema", "table " + table.QualifiedName() +
                                           " has no id: add WITH ID = <uuid> (the table id from "
                                           "system_schema.tables) or configure it"};
  }
  if (const TableSchema* other = FindTable(*table.id)) {
    return common::Error{"cql.schema", "tables " + other->QualifiedName() + " and " +
                                           table.QualifiedName() + " share id " +
                                           table.id->ToString()};
  }
  auto owned = std::make_unique<TableSchema>(std::move(table));
  by_id_[*owned->id] = owned.get();
  tables_.push_back(std::move(owned));
  return common::Status::Ok();
}

common::Status Schema::AddCql(std::string_view cql) {
  auto tables = ParseCreateTables(cql);
  if (!tables.ok()) return tables.error();
  for (auto& t : tables.value()) {
    if (auto s = AddTable(std::move(t)); !s.ok()) return s;
  }
  return common::Status::Ok();
}

common::Result<Schema> Schema::FromCql(std::string_view cql) {
  Schema schema;
  if (auto s = schema.AddCql(cql); !s.ok()) return s.error();
  return schema;
}

common::Status Schema::ReplaceTable(TableSchema table) {
  if (!table.id)
    return common::Error{"cql.schema", "table " + table.QualifiedName() + " has no id"};
  for (auto& t : tables_) {
    if (t->id != table.id) continue;
    auto owned = std::make_unique<TableSchema>(std::move(table));
    by_id_[*owned->id] = owned.get();
    replaced_.push_back(std::move(t));
    t = std::move(owned);
    return common::Status::Ok();
  }
  return common::Error{"cql.schema", "no table with id " + table.id->ToString()};
}

bool Schema::RemoveTable(const TableId& id) {
  for (auto it = tables_.begin(); it != tables_.end(); ++it) {
    if ((*it)->id != id) continue;
    by_id_.erase(id);
    replaced_.push_back(std::move(*it));
    tables_.erase(it);
    return true;
  }
  return false;
}

Schema Schema::Copy() const {
  Schema out;
  for (const auto& t : tables_) out.AddTable(*t).PermitUnchecked();  // ids are unique here
  return out;
}

const TableSchema* Schema::FindTable(const TableId& id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

const TableSchema* Schema::FindTable(std::string_view keyspace, std::string_view table) const {
  for (const auto& t : tables_) {
    if (t->keyspace == keyspace && t->name == table) return t.get();
  }
  return nullptr;
}

std::vector<const TableSchema*> Schema::Tables() const {
  std::vector<const TableSchema*> out;
  for (const auto& t : tables_) out.push_back(t.get());
  return out;
}

}  // namespace rm::cdc::cassandra
