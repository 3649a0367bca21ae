// For generated validators only: the checks behind (cppsvc.v1.field).validate.
// A path like "items[2].quantity" is built only when a check fails, so a
// valid request costs no allocation.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace re2 {
class RE2;
}

namespace cppsvc::impl {

// A field in a message being validated, linked to its parent.
struct FieldRef {
  const FieldRef* parent = nullptr;
  std::string_view name;
  int index = -1;  // element of a repeated field

  std::string Path() const;
};

// The failures of one request. Only the first kMaxKept are kept (the rest
// are counted): a request of a million bad elements must not make a
// million messages, nor an error text larger than the request.
class Violations {
 public:
  static constexpr size_t kMaxKept = 50;

  // A field found missing ("is required") gets no further message: an
  // empty required string is not also "shorter than min_len".
  void Add(const FieldRef& field, std::string message);
  void AddMissing(const FieldRef& field);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  // "items[2].quantity: must be >= 1; email: must be a valid email address",
  // then "; and N more" past kMaxKept.
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
  size_t count_ = 0;
  std::string missing_;  // path of the last field found missing
};

// A field's `pattern` rule, compiled once. Matching uses RE2: time linear in
// the value and no recursion, so no value can exhaust the stack or the CPU
// (std::regex recurses once per character). A value outside the field's
// length rules [min_len, max_len] (characters) is not matched at all: the
// length checks already refuse it.
class Pattern {
 public:
  static constexpr uint32_t kNoMaxLen = std::numeric_limits<uint32_t>::max();

  explicit Pattern(std::string_view text, uint32_t min_len = 0, uint32_t max_len = kNoMaxLen);
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // The whole value matches. False when the pattern did not compile (the
  // generator checks every pattern with RE2, so only a version skew can).
  bool FullMatch(std::string_view value) const;
  bool WithinLength(std::string_view value) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::unique_ptr<re2::RE2> re_;
  uint32_t min_len_;
  uint32_t max_len_;
};

size_t Utf8Length(std::string_view s);
bool IsUuid(std::string_view s);
bool IsEmail(std::string_view s);
// "1", "0.5", "-3": integral bounds print without a fraction.
std::string FormatBound(double bound);

void CheckRequired(Violations& v, const FieldRef& f, bool present);
void CheckMinLen(Violations& v, const FieldRef& f, std::string_view s, uint32_t min);
void CheckMaxLen(Violations& v, const FieldRef& f, std::string_view s, uint32_t max);
void CheckMinBytes(Violations& v, const FieldRef& f, std::string_view s, uint32_t min);
void CheckMaxBytes(Violations& v, const FieldRef& f, std::string_view s, uint32_t max);
// Format checks pass an empty string unless the field is required: a plain
// proto3 string cannot tell "unset" from "empty".
void CheckUuid(Violations& v, const FieldRef& f, std::string_view s);
void CheckEmail(Violations& v, const FieldRef& f, std::string_view s);
// Skips an empty value (as the format checks do) and one outside the
// pattern's length rules.
void CheckPattern(Violations& v, const FieldRef& f, std::string_view s, const Pattern& pattern);
void CheckEnumDefined(Violations& v, const FieldRef& f, bool defined);
void CheckMinItems(Violations& v, const FieldRef& f, int size, uint32_t min);
void CheckMaxItems(Violations& v, const FieldRef& f, int size, uint32_t max);

template <typename T>
void CheckGte(Violations& v, const FieldRef& f, T value, double bound) {
  if (!(static_cast<double>(value) >= bound)) v.Add(f, "must be >= " + FormatBound(bound));
}
template <typename T>
void CheckGt(Violations& v, const FieldRef& f, T value, double bound) {
  if (!(static_cast<double>(value) > bound)) v.Add(f, "must be > " + FormatBound(bound));
}
template <typename T>
void CheckLte(Violations& v, const FieldRef& f, T value, double bound) {
  if (!(static_cast<double>(value) <= bound)) v.Add(f, "must be <= " + FormatBound(bound));
}
template <typename T>
void CheckLt(Violations& v, const FieldRef& f, T value, double bound) {
  if (!(static_cast<double>(value) < bound)) v.Add(f, "must be < " + FormatBound(bound));
}

}  // namespace cppsvc::impl
