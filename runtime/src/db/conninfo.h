// Helpers shared by the database runtime's sources.
#pragma once

#include <chrono>
#include <string>

namespace cppsvc::db::internal {

// `conninfo` (a libpq URL or key=value string) with connect_timeout set,
// unless it already sets one. libpq counts whole seconds, at least 2.
std::string WithConnectTimeout(const std::string& conninfo, std::chrono::milliseconds timeout);

}  // namespace cppsvc::db::internal
