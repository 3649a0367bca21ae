#include "model/names.h"

#include <cctype>

#include <algorithm>
#include <array>

namespace cppsvc::model {

std::string SnakeCase(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      bool prev_lower = i > 0 && (std::islower(static_cast<unsigned char>(name[i - 1])) ||
                                  std::isdigit(static_cast<unsigned char>(name[i - 1])));
      bool next_lower =
          i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
      bool prev_upper = i > 0 && std::isupper(static_cast<unsigned char>(name[i - 1]));
      if (!out.empty() && out.back() != '_' && (prev_lower || (prev_upper && next_lower))) {
        out += '_';
      }
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string PascalCase(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_' || c == '.' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string DefaultShortName(std::string_view service_name) {
  std::string snake = SnakeCase(service_name);
  constexpr std::string_view kSuffix = "_service";
  if (snake.size() > kSuffix.size() &&
      snake.compare(snake.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    snake.resize(snake.size() - kSuffix.size());
  }
  return snake;
}

bool IsCppKeyword(std::string_view name) {
  // Sorted for binary search.
  static constexpr std::array<std::string_view, 98> kKeywords = {"NULL",
                                                                 "alignas",
                                                                 "alignof",
                                                                 "and",
                                                                 "and_eq",
                                                                 "asm",
                                                                 "atomic_cancel",
                                                                 "atomic_commit",
                                                                 "atomic_noexcept",
                                                                 "auto",
                                                                 "bitand",
                                                                 "bitor",
                                                                 "bool",
                                                                 "break",
                                                                 "case",
                                                                 "catch",
                                                                 "char",
                                                                 "char16_t",
                                                                 "char32_t",
                                                                 "char8_t",
                                                                 "class",
                                                                 "co_await",
                                                                 "co_return",
                                                                 "co_yield",
                                                                 "compl",
                                                                 "concept",
                                                                 "const",
                                                                 "const_cast",
                                                                 "consteval",
                                                                 "constexpr",
                                                                 "constinit",
                                                                 "continue",
                                                                 "decltype",
                                                                 "default",
                                                                 "delete",
                                                                 "do",
                                                                 "double",
                                                                 "dynamic_cast",
                                                                 "else",
                                                                 "enum",
                                                                 "explicit",
                                                                 "export",
                                                                 "extern",
                                                                 "false",
                                                                 "float",
                                                                 "for",
                                                                 "friend",
                                                                 "goto",
                                                                 "if",
                                                                 "inline",
                                                                 "int",
                                                                 "long",
                                                                 "mutable",
                                                                 "namespace",
                                                                 "new",
                                                                 "noexcept",
                                                                 "not",
                                                                 "not_eq",
                                                                 "nullptr",
                                                                 "operator",
                                                                 "or",
                                                                 "or_eq",
                                                                 "private",
                                                                 "protected",
                                                                 "public",
                                                                 "reflexpr",
                                                                 "register",
                                                                 "reinterpret_cast",
                                                                 "requires",
                                                                 "return",
                                                                 "short",
                                                                 "signed",
                                                                 "sizeof",
                                                                 "static",
                                                                 "static_assert",
                                                                 "static_cast",
                                                                 "struct",
                                                                 "switch",
                                                                 "synchronized",
                                                                 "template",
                                                                 "this",
                                                                 "thread_local",
                                                                 "throw",
                                                                 "true",
                                                                 "try",
                                                                 "typedef",
                                                                 "typeid",
                                                                 "typename",
                                                                 "union",
                                                                 "unsigned",
                                                                 "using",
                                                                 "virtual",
                                                                 "void",
                                                                 "volatile",
                                                                 "wchar_t",
                                                                 "while",
                                                                 "xor",
                                                                 "xor_eq"};
  return std::binary_search(kKeywords.begin(), kKeywords.end(), name);
}

bool IsSqlReservedWord(std::string_view name) {
  // Sorted for binary search; from the key word appendix of the PostgreSQL 15
  // manual ("reserved" and "reserved (can be function or type)").
  static constexpr std::array<std::string_view, 100> kReserved = {"all",
                                                                  "analyse",
                                                                  "analyze",
                                                                  "and",
                                                                  "any",
                                                                  "array",
                                                                  "as",
                                                                  "asc",
                                                                  "asymmetric",
                                                                  "authorization",
                                                                  "binary",
                                                                  "both",
                                                                  "case",
                                                                  "cast",
                                                                  "check",
                                                                  "collate",
                                                                  "collation",
                                                                  "column",
                                                                  "concurrently",
                                                                  "constraint",
                                                                  "create",
                                                                  "cross",
                                                                  "current_catalog",
                                                                  "current_date",
                                                                  "current_role",
                                                                  "current_schema",
                                                                  "current_time",
                                                                  "current_timestamp",
                                                                  "current_user",
                                                                  "default",
                                                                  "deferrable",
                                                                  "desc",
                                                                  "distinct",
                                                                  "do",
                                                                  "else",
                                                                  "end",
                                                                  "except",
                                                                  "false",
                                                                  "fetch",
                                                                  "for",
                                                                  "foreign",
                                                                  "freeze",
                                                                  "from",
                                                                  "full",
                                                                  "grant",
                                                                  "group",
                                                                  "having",
                                                                  "ilike",
                                                                  "in",
                                                                  "initially",
                                                                  "inner",
                                                                  "intersect",
                                                                  "into",
                                                                  "is",
                                                                  "isnull",
                                                                  "join",
                                                                  "lateral",
                                                                  "leading",
                                                                  "left",
                                                                  "like",
                                                                  "limit",
                                                                  "localtime",
                                                                  "localtimestamp",
                                                                  "natural",
                                                                  "not",
                                                                  "notnull",
                                                                  "null",
                                                                  "offset",
                                                                  "on",
                                                                  "only",
                                                                  "or",
                                                                  "order",
                                                                  "outer",
                                                                  "overlaps",
                                                                  "placing",
                                                                  "primary",
                                                                  "references",
                                                                  "returning",
                                                                  "right",
                                                                  "select",
                                                                  "session_user",
                                                                  "similar",
                                                                  "some",
                                                                  "symmetric",
                                                                  "table",
                                                                  "tablesample",
                                                                  "then",
                                                                  "to",
                                                                  "trailing",
                                                                  "true",
                                                                  "union",
                                                                  "unique",
                                                                  "user",
                                                                  "using",
                                                                  "variadic",
                                                                  "verbose",
                                                                  "when",
                                                                  "where",
                                                                  "window",
                                                                  "with"};
  return std::binary_search(kReserved.begin(), kReserved.end(), name);
}

bool IsPlainSqlIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string CppNamespace(std::string_view package) {
  std::string out;
  size_t start = 0;
  while (start <= package.size() && !package.empty()) {
    size_t dot = package.find('.', start);
    std::string_view part =
        package.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!out.empty()) out += "::";
    out += part;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string ResolveName(std::string_view name, std::string_view package) {
  if (name.find('.') != std::string_view::npos || package.empty()) return std::string(name);
  return std::string(package) + "." + std::string(name);
}

std::string ShortName(std::string_view full_name) {
  size_t dot = full_name.rfind('.');
  return std::string(dot == std::string_view::npos ? full_name : full_name.substr(dot + 1));
}

}  // namespace cppsvc::model
