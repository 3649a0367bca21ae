// Line layout of generated C++ that clang-format would otherwise change:
// long declarations and long comments. Mirrors what clang-format 14 does
// with the repo's .clang-format (ColumnLimit 100, BinPackParameters false),
// so generated files pass `clang-format --dry-run --Werror` (checked by a
// test over every generated file).
#pragma once

#include <string>
#include <vector>

namespace cppsvc::emit {

constexpr size_t kColumnLimit = 100;

// `<indent><head>(<params, ...>)<tail>`: on one line when it fits; else one
// parameter per line aligned after '('; else broken after '(' with four more
// spaces of indent. No trailing newline.
std::string LayoutDeclaration(size_t indent,
                              const std::string& head,
                              const std::vector<std::string>& params,
                              const std::string& tail);

// One statement or declaration, `line` (its indent included), as
// clang-format lays it out: unchanged when it fits; `if (c) s;` with braces
// around `s`; `lhs = rhs;` broken after '='; a one-line function
// `f(...) { body }` with its body on a line of its own; otherwise the first
// top-level call or parameter list as LayoutDeclaration does. No trailing
// newline.
std::string LayoutStatement(const std::string& line);

// `text` as `// ` comment lines of at most kColumnLimit columns, each
// followed by a newline. Empty text gives "".
std::string LayoutComment(size_t indent, const std::string& text);

}  // namespace cppsvc::emit
