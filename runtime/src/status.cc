#include "cppsvc/status.h"

#include "cppsvc/status_code_names.h"

namespace cppsvc {

std::string_view StatusCodeName(StatusCode code) {
  auto i = static_cast<size_t>(code);
  return i < kStatusCodeNames.size() ? kStatusCodeNames[i] : "UNKNOWN";
}

bool ParseStatusCode(std::string_view name, StatusCode& code) {
  for (size_t i = 0; i < kStatusCodeNames.size(); ++i) {
    if (kStatusCodeNames[i] == name) {
      code = static_cast<StatusCode>(i);
      return true;
    }
  }
  return false;
}

std::string Status::ToString() const {
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) out += ": " + message_;
  return out;
}

}  // namespace cppsvc
