#include "emit/cpp_layout.h"

#include <sstream>

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
