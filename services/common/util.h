// Helpers shared by the hand-written commerce services: ids, time, paging.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/timestamp.pb.h>

#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace services {

// Random (version 4) UUID, lower-case, from OpenSSL's CSPRNG.
std::string NewUuid();
// `bytes` random bytes from OpenSSL's CSPRNG, as lower-case hex.
std::string RandomHex(size_t bytes);
// Lower-case hex of `data`.
std::string Hex(std::string_view data);

google::protobuf::Timestamp ToTimestamp(cppsvc::Clock::time_point t);
cppsvc::Clock::time_point FromTimestamp(const google::protobuf::Timestamp& t);

// ASCII lower-case.
std::string Lower(std::string_view s);
// Case-insensitive (ASCII) substring test.
bool ContainsIgnoringCase(std::string_view haystack, std::string_view needle);

// Page tokens are opaque to callers; here they are a positive decimal cursor
// (a sequence number or an offset, as each list defines). Empty is the first
// page (cursor 0). Anything else is INVALID_ARGUMENT.
cppsvc::Status ParsePageToken(const std::string& token, int64_t& cursor);
std::string PageToken(int64_t cursor);
// `requested`, or `fallback` when it is 0.
inline int PageSize(int32_t requested, int fallback) {
  return requested > 0 ? requested : fallback;
}

}  // namespace services

namespace cppsvc::config {
class Env;
}

namespace services {
// Ends the process with exit code 2 and one line naming every problem, as the
// generated main() does for its own variables, when `env` found any. For
// handler constructors, which run before the server starts.
void ExitOnConfigurationProblems(std::string_view service, const cppsvc::config::Env& env);
}  // namespace services
