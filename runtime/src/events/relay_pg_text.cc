#include "relay_pg_text.h"

#include <charconv>

namespace cppsvc::events::internal {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

double Float8(const pqxx::field& f) {
  double value = 0;
  const char* text = f.c_str();
  if (std::from_chars(text, text + f.size(), value).ec != std::errc()) return 0;
  return value;
}

void ByteaInto(const pqxx::field& f, std::string& out) {
  const char* text = f.c_str();
  const size_t size = f.size();
  if (size >= 2 && text[0] == '\\' && text[1] == 'x' && size % 2 == 0) {
    out.resize((size - 2) / 2);
    bool ok = true;
    for (size_t i = 0; i < out.size() && ok; ++i) {
      const int hi = HexDigit(text[2 + 2 * i]);
      const int lo = HexDigit(text[3 + 2 * i]);
      ok = hi >= 0 && lo >= 0;
      out[i] = static_cast<char>(hi << 4 | lo);
    }
    if (ok) return;
  }
  const pqxx::binarystring bytes(f);
  out.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool SplitPlainJsonbObject(std::string_view text,
                           std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  pairs.clear();
  if (text.size() < 2 || text.front() != '{' || text.back() != '}' ||
      text.find('\\') != std::string_view::npos) {
    return false;
  }
  std::string_view rest = text.substr(1, text.size() - 2);
  // A string starting at rest[0]; false unless it is one.
  auto take_string = [&rest](std::string_view& out) {
    if (rest.empty() || rest.front() != '"') return false;
    const size_t end = rest.find('"', 1);
    if (end == std::string_view::npos) return false;
    out = rest.substr(1, end - 1);
    rest.remove_prefix(end + 1);
    return true;
  };
  auto take = [&rest](std::string_view literal) {
    if (rest.substr(0, literal.size()) != literal) return false;
    rest.remove_prefix(literal.size());
    return true;
  };
  while (!rest.empty()) {
    std::string_view key, value;
    if (!take_string(key) || !take(": ") || !take_string(value)) return false;
    pairs.emplace_back(key, value);
    if (!rest.empty() && !take(", ")) return false;
  }
  return true;
}

std::string ArrayLiteral(const std::vector<std::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += values[i];
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace cppsvc::events::internal
