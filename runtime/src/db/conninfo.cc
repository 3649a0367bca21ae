#include "conninfo.h"

#include <algorithm>
#include <cstdint>

namespace cppsvc::db::internal {

std::string WithConnectTimeout(const std::string& conninfo, std::chrono::milliseconds timeout) {
  if (conninfo.find("connect_timeout") != std::string::npos) return conninfo;
  const int64_t seconds = std::max<int64_t>((timeout.count() + 999) / 1000, 2);
  const bool url = conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
  if (!url) {
    return conninfo + (conninfo.empty() ? "" : " ") + "connect_timeout=" + std::to_string(seconds);
  }
  const char separator = conninfo.find('?') == std::string::npos ? '?' : '&';
  return conninfo + separator + "connect_timeout=" + std::to_string(seconds);
}

}  // namespace cppsvc::db::internal
