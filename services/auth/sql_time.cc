#include "auth/sql_time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace auth {

std::string SqlTime(cppsvc::Clock::time_point t) {
  const auto micros = std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000 - (micros % 1000000 < 0));
  const long fraction = static_cast<long>(micros - int64_t{seconds} * 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text,
                sizeof text,
                "%04d-%02d-%02d %02d:%02d:%02d.%06ld+00",
                utc.tm_year + 1900,
                utc.tm_mon + 1,
                utc.tm_mday,
                utc.tm_hour,
                utc.tm_min,
                utc.tm_sec,
                fraction);
  return text;
}

cppsvc::Clock::time_point FromMicros(int64_t micros) {
  return cppsvc::Clock::time_point(
      std::chrono::duration_cast<cppsvc::Clock::duration>(std::chrono::microseconds(micros)));
}

}  // namespace auth
