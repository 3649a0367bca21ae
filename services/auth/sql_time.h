// Instants in the auth service's own statements: parameters as text that
// PostgreSQL reads as timestamptz ($1::timestamptz), columns read back as
// whole microseconds since the epoch
// ((EXTRACT(EPOCH FROM column) * 1000000)::bigint), PostgreSQL's precision.
#pragma once

#include <cstdint>
#include <string>

#include "cppsvc/context.h"

namespace auth {

// "2024-05-01 12:00:00.123456+00" (UTC, microseconds truncated).
std::string SqlTime(cppsvc::Clock::time_point t);
cppsvc::Clock::time_point FromMicros(int64_t micros);

}  // namespace auth
