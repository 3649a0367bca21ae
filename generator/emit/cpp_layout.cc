#include "emit/cpp_layout.h"

#include <cctype>
#include <sstream>
#include <string_view>

namespace cppsvc::emit {
namespace {

// A parameter `type name` too long for its line is broken before the name.
std::string FitParam(size_t indent, const std::string& param, const std::string& end) {
  std::string pad(indent, ' ');
  if (indent + param.size() + end.size() <= kColumnLimit) return pad + param + end;
  size_t space = param.rfind(' ');
  if (space == std::string::npos) return pad + param + end;
  return pad + param.substr(0, space) + "\n" + std::string(indent + 4, ' ') +
         param.substr(space + 1) + end;
}

bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

// The bracket depth before each character of `s` (string and character
// literals count as one level deeper, so nothing inside them is top-level).
// '<' opens a level only right after a name, as in `std::optional<T>`.
std::vector<int> Depths(std::string_view s) {
  std::vector<int> depth(s.size(), 0);
  std::string open;
  for (size_t i = 0; i < s.size(); ++i) {
    depth[i] = static_cast<int>(open.size());
    char c = s[i];
    if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) j += s[j] == '\\' ? 2 : 1;
      for (size_t k = i + 1; k < s.size() && k <= j; ++k) depth[k] = depth[i] + 1;
      i = j;
    } else if (c == '(' || c == '[' || c == '{' ||
               (c == '<' && i > 0 && IsIdentifierChar(s[i - 1]))) {
      open += c;
    } else if (!open.empty() &&
               (c == ')' || c == ']' || c == '}' || (c == '>' && open.back() == '<'))) {
      open.pop_back();
      depth[i] = static_cast<int>(open.size());
    }
  }
  return depth;
}

// The first top-level occurrence of `what` in `s`, or npos.
size_t FindTopLevel(std::string_view s, const std::vector<int>& depth, std::string_view what) {
  for (size_t pos = s.find(what); pos != std::string_view::npos; pos = s.find(what, pos + 1)) {
    if (depth[pos] == 0) return pos;
  }
  return std::string_view::npos;
}

// The ')' closing the '(' at `open`, or npos.
size_t Closing(std::string_view s, const std::vector<int>& depth, size_t open) {
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (s[i] == ')' && depth[i] == depth[open]) return i;
  }
  return std::string_view::npos;
}

// The comma-separated items of `s` (top-level commas only), trimmed.
std::vector<std::string> SplitArguments(std::string_view s) {
  std::vector<std::string> out;
  std::vector<int> depth = Depths(s);
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && (s[i] != ',' || depth[i] != 0)) continue;
    std::string_view item = s.substr(start, i - start);
    size_t first = item.find_first_not_of(' ');
    if (first != std::string_view::npos) {
      out.emplace_back(item.substr(first, item.find_last_not_of(' ') - first + 1));
    }
    start = i + 1;
  }
  return out;
}

}  // namespace

std::string LayoutDeclaration(size_t indent,
                              const std::string& head,
                              const std::vector<std::string>& params,
                              const std::string& tail) {
  std::string pad(indent, ' ');
  std::string joined;
  for (size_t i = 0; i < params.size(); ++i) joined += (i ? ", " : "") + params[i];
  std::string one = pad + head + "(" + joined + ")" + tail;
  if (one.size() <= kColumnLimit || params.empty()) return one;

  size_t aligned = indent + head.size() + 1;
  bool fits = true;
  for (size_t i = 0; i < params.size(); ++i) {
    size_t end = i + 1 < params.size() ? 1 : 1 + tail.size();
    fits = fits && aligned + params[i].size() + end <= kColumnLimit;
  }
  std::string out = pad + head + "(";
  if (fits) {
    for (size_t i = 0; i < params.size(); ++i) {
      if (i > 0) out += ",\n" + std::string(aligned, ' ');
      out += params[i];
    }
    return out + ")" + tail;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    bool last = i + 1 == params.size();
    out += "\n" + FitParam(indent + 4, params[i], last ? ")" + tail : ",");
  }
  return out;
}

std::string LayoutStatement(const std::string& line) {
  if (line.size() <= kColumnLimit) return line;
  const size_t indent = line.find_first_not_of(' ');
  if (indent == std::string::npos) return line;
  const std::string pad(indent, ' ');
  const std::string body = line.substr(indent);
  const std::vector<int> depth = Depths(body);
  const size_t paren = FindTopLevel(body, depth, "(");
  const size_t close = paren == std::string::npos ? paren : Closing(body, depth, paren);
  if (body.rfind("if (", 0) == 0 && close != std::string::npos && close + 2 < body.size() &&
      body[close + 1] == ' ' && body[close + 2] != '{') {
    return pad + body.substr(0, close + 1) + " {\n" +
           LayoutStatement(pad + "  " + body.substr(close + 2)) + "\n" + pad + "}";
  }
  const size_t assign = FindTopLevel(body, depth, " = ");
  if (assign != std::string::npos && (paren == std::string::npos || assign < paren)) {
    return pad + body.substr(0, assign) + " =\n" +
           LayoutStatement(pad + "    " + body.substr(assign + 3));
  }
  if (close == std::string::npos) return line;
  const std::string head = body.substr(0, paren);
  const std::vector<std::string> args =
      SplitArguments(std::string_view(body).substr(paren + 1, close - paren - 1));
  const std::string tail = body.substr(close + 1);
  const size_t brace = tail.find(" { ");
  if (brace != std::string::npos && tail.size() >= brace + 5 &&
      tail.compare(tail.size() - 2, 2, " }") == 0) {
    // A one-line function that does not fit: its body goes on a line of its own.
    return LayoutDeclaration(indent, head, args, tail.substr(0, brace) + " {") + "\n" + pad + "  " +
           tail.substr(brace + 3, tail.size() - brace - 5) + "\n" + pad + "}";
  }
  return LayoutDeclaration(indent, head, args, tail);
}

std::string LayoutComment(size_t indent, const std::string& text) {
  std::string out;
  std::string pad(indent, ' ');
  std::string line;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    if (!line.empty() && pad.size() + 3 + line.size() + 1 + word.size() > kColumnLimit) {
      out += pad + "// " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += pad + "// " + line + "\n";
  return out;
}

}  // namespace cppsvc::emit
