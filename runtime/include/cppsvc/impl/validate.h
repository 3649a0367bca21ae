// For generated validators only: the checks behind (cppsvc.v1.field).validate.
// A path like "items[2].quantity" is built only when a check fails, so a
// valid request costs no allocation.
#pragma once

#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cppsvc::impl {

// A field in a message being validated, linked to its parent.
struct FieldRef {
  const FieldRef* parent = nullptr;
  std::string_view name;
  int index = -1;  // element of a repeated field

  std::string Path() const;
};

class Violations {
 public:
  void Add(const FieldRef& field, std::string message);
  bool empty() const { return items_.empty(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  // "items[2].quantity: must be >= 1; email: must be a valid email address"
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
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
void CheckPattern(Violations& v, const FieldRef& f, std::string_view s, const std::regex& re,
                  std::string_view pattern);
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
