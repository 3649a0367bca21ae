#include "cppsvc/impl/validate.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <re2/re2.h>

namespace cppsvc::impl {

std::string FieldRef::Path() const {
  std::string head = parent != nullptr ? parent->Path() : "";
  if (!head.empty() && !name.empty()) head += '.';
  head += name;
  if (index >= 0) {
    // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict on the
    // concatenation.
    head += '[';
    head += std::to_string(index);
    head += ']';
  }
  return head;
}

void Violations::Add(const FieldRef& field, std::string message) {
  if (!missing_.empty() && field.Path() == missing_) return;
  if (++count_ <= kMaxKept) items_.emplace_back(field.Path(), std::move(message));
}

void Violations::AddMissing(const FieldRef& field) {
  Add(field, "is required");
  missing_ = field.Path();
}

std::string Violations::ToString() const {
  std::string out;
  for (const auto& [path, message] : items_) {
    if (!out.empty()) out += "; ";
    out += path + ": " + message;
  }
  if (count_ > items_.size()) out += "; and " + std::to_string(count_ - items_.size()) + " more";
  return out;
}

namespace {

re2::RE2::Options PatternOptions() {
  re2::RE2::Options options;  // UTF-8, longest match off, 8 MiB memory budget
  options.set_log_errors(false);
  return options;
}

}  // namespace

Pattern::Pattern(std::string_view text, uint32_t min_len, uint32_t max_len)
    : text_(text),
      re_(std::make_unique<re2::RE2>(re2::StringPiece(text.data(), text.size()), PatternOptions())),
      min_len_(min_len),
      max_len_(max_len) {}

Pattern::~Pattern() = default;

bool Pattern::FullMatch(std::string_view value) const {
  return re_->ok() && re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
}

bool Pattern::WithinLength(std::string_view value) const {
  // A value no longer in bytes than max_len has at most max_len characters.
  if (min_len_ == 0 && value.size() <= max_len_) return true;
  const size_t length = Utf8Length(value);
  return length >= min_len_ && length <= max_len_;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count lead bytes
  return n;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsEmail(std::string_view s) {
  // local@domain.tld: one '@', a non-empty local part, a dotted domain of
  // letters, digits and '-', no spaces; the pragmatic subset of RFC 5322.
  size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return false;
  if (s.size() > 254 || at > 64) return false;
  for (char c : s.substr(0, at)) {
    if (c <= ' ' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  std::string_view domain = s.substr(at + 1);
  if (domain.empty() || domain.front() == '.' || domain.back() == '.' ||
      domain.find('.') == std::string_view::npos || domain.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string FormatBound(double bound) {
  char buf[64];
  if (std::trunc(bound) == bound && std::fabs(bound) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", bound);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", bound);
    // Shortest text that reads back the same number.
    for (int precision = 1; precision <= 17; ++precision) {
      char shorter[64];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, bound);
      if (std::strtod(shorter, nullptr) == bound) return shorter;
    }
  }
  return buf;
}

void CheckRequired(Violations& v, const FieldRef& f, bool present) {
  if (!present) v.AddMissing(f);
}
void CheckMinLen(Violations& v, const FieldRef& f, std::string_view s, uint32_t min) {
  if (Utf8Length(s) < min) v.Add(f, "must be at least " + std::to_string(min) + " characters");
}
void CheckMaxLen(Violations& v, const FieldRef& f, std::string_view s, uint32_t max) {
  if (Utf8Length(s) > max) v.Add(f, "must be at most " + std::to_string(max) + " characters");
}
void CheckMinBytes(Violations& v, const FieldRef& f, std::string_view s, uint32_t min) {
  if (s.size() < min) v.Add(f, "must be at least " + std::to_string(min) + " bytes");
}
void CheckMaxBytes(Violations& v, const FieldRef& f, std::string_view s, uint32_t max) {
  if (s.size() > max) v.Add(f, "must be at most " + std::to_string(max) + " bytes");
}
void CheckUuid(Violations& v, const FieldRef& f, std::string_view s) {
  if (!s.empty() && !IsUuid(s)) v.Add(f, "must be a UUID");
}
void CheckEmail(Violations& v, const FieldRef& f, std::string_view s) {
  if (!s.empty() && !IsEmail(s)) v.Add(f, "must be a valid email address");
}
void CheckPattern(Violations& v, const FieldRef& f, std::string_view s, const Pattern& pattern) {
  if (s.empty() || !pattern.WithinLength(s)) return;
  if (!pattern.FullMatch(s)) v.Add(f, "must match " + pattern.text());
}
void CheckEnumDefined(Violations& v, const FieldRef& f, bool defined) {
  if (!defined) v.Add(f, "must be a defined value");
}
void CheckMinItems(Violations& v, const FieldRef& f, int size, uint32_t min) {
  if (static_cast<uint32_t>(size) < min)
    v.Add(f, "must have at least " + std::to_string(min) + (min == 1 ? " item" : " items"));
}
void CheckMaxItems(Violations& v, const FieldRef& f, int size, uint32_t max) {
  if (static_cast<uint32_t>(size) > max)
    v.Add(f, "must have at most " + std::to_string(max) + (max == 1 ? " item" : " items"));
}

}  // namespace cppsvc::impl
