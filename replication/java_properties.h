// Java `.properties` files, read by the rules of java.util.Properties#load: what MirrorMaker 2
// (and every Kafka tool) reads its configuration and its FileConfigProvider secrets with.
//
// Rules followed (from the java.util.Properties documentation):
// - Natural lines end with "\n", "\r" or "\r\n". A line holding only whitespace (space, tab,
//   form feed) is blank; a line whose first non-whitespace character is '#' or '!' is a
//   comment. Both are skipped, and a comment never continues onto the next line.
// - A line ending in an odd number of backslashes continues on the next line; the backslash
//   and the next line's leading whitespace are dropped (an even number is escaped backslashes).
// - The key starts at the first non-whitespace character and ends before the first unescaped
//   '=', ':' or whitespace. Whitespace, then one '=' or ':', then whitespace after the key are
//   skipped; the rest of the line is the value, trailing whitespace included.
// - Escapes in keys and values: \t \n \r \f, \uXXXX (UTF-16, surrogate pairs combined), and
//   a backslash before any other character stands for that character ("\=", "\ ", "\\").
// - A key given twice keeps its last value.
// Deviation, on purpose: Java reads the bytes as ISO-8859-1; we keep them as they are (UTF-8
// files stay UTF-8), and \uXXXX escapes are written out as UTF-8.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace rm::replication {

// Parses `text`; throws common::ConfigError "<file>: line N: malformed \uXXXX escape" for the
// one thing Java rejects too. Values are as written (no trimming).
std::map<std::string, std::string> ParseJavaProperties(std::string_view text,
                                                       const std::string& file = "properties");

}  // namespace rm::replication
