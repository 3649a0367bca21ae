#include "cppsvc/config/env.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace cppsvc::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whole-string decimal integer (optional sign); false on anything else or
// overflow.
bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  // Accumulate as a negative number so INT64_MIN is representable.
  int64_t value = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    int digit = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + digit) / 10) return false;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) return false;
    value = -value;
  }
  out = value;
  return true;
}

// The trimmed value; an unset variable and one set to an empty (or blank)
// value are treated alike.
std::optional<std::string> Lookup(const Env::Getter& get, const std::string& name) {
  std::optional<std::string> v = get ? get(name) : std::nullopt;
  if (!v) return std::nullopt;
  std::string_view trimmed = Trim(*v);
  if (trimmed.empty()) return std::nullopt;
  return std::string(trimmed);
}

}  // namespace

Env::Env()
    : Env([](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      }) {}

Env::Env(Getter getter) : get_(std::move(getter)) {}

std::string Env::ValueOrFile(const std::string& name) {
  std::string value = Optional(name, "");
  const std::string file = Optional(name + "_FILE", "");
  if (!value.empty() || file.empty()) return value;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) Problem(name + "_FILE: cannot read " + file);
  return text.str();
}

std::string Env::Required(const std::string& name) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) {
    problems_.push_back(name + " is required");
    return "";
  }
  return *v;
}

std::string Env::Optional(const std::string& name, const std::string& fallback) {
  std::optional<std::string> v = Lookup(get_, name);
  return v ? *v : fallback;
}

uint16_t Env::Port(const std::string& name, uint16_t fallback) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) return fallback;
  int64_t n = 0;
  if (!ParseInt(*v, n) || n < 1 || n > 65535) {
    problems_.push_back(name + ": '" + *v + "' is not a port (1-65535)");
    return fallback;
  }
  return static_cast<uint16_t>(n);
}

int64_t Env::Integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) return fallback;
  int64_t n = 0;
  if (!ParseInt(*v, n)) {
    problems_.push_back(name + ": '" + *v + "' is not an integer");
    return fallback;
  }
  if (n < min || n > max) {
    problems_.push_back(name + ": " + std::to_string(n) + " is out of range [" +
                        std::to_string(min) + ", " + std::to_string(max) + "]");
    return fallback;
  }
  return n;
}

std::chrono::milliseconds Env::Millis(const std::string& name, std::chrono::milliseconds fallback) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) return fallback;
  // A non-negative integer with an optional unit: ms (the default), s, m, h.
  std::string_view s = *v;
  std::size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  std::string unit = Lower(Trim(s.substr(digits)));
  int64_t n = 0;
  int64_t scale = 0;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = int64_t{60} * 1000;
  } else if (unit == "h") {
    scale = int64_t{60} * 60 * 1000;
  }
  if (digits == 0 || scale == 0 || !ParseInt(s.substr(0, digits), n) ||
      n > std::numeric_limits<int64_t>::max() / scale) {
    problems_.push_back(name + ": '" + *v + "' is not a duration (e.g. 250, 250ms, 2s, 1m, 1h)");
    return fallback;
  }
  return std::chrono::milliseconds(n * scale);
}

bool Env::Flag(const std::string& name, bool fallback) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) return fallback;
  std::string s = Lower(*v);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  problems_.push_back(name + ": '" + *v + "' is not a boolean (true/false, 1/0, yes/no, on/off)");
  return fallback;
}

std::vector<std::string> Env::List(const std::string& name,
                                   const std::vector<std::string>& fallback) {
  std::optional<std::string> v = Lookup(get_, name);
  if (!v) return fallback;
  std::vector<std::string> out;
  std::string_view rest = *v;
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view entry = Trim(rest.substr(0, comma));
    if (!entry.empty()) out.emplace_back(entry);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

void Env::Check() const {
  if (problems_.empty()) return;
  std::string message = "configuration: ";
  for (std::size_t i = 0; i < problems_.size(); ++i) {
    if (i > 0) message += "; ";
    message += problems_[i];
  }
  throw std::runtime_error(message);
}

}  // namespace cppsvc::config
