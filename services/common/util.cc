#include "common/util.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include <openssl/rand.h>

#include "cppsvc/config/env.h"

namespace services {

std::string Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

namespace {
std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // no entropy: nothing sensible to do
  }
  return bytes;
}
}  // namespace

std::string RandomHex(size_t bytes) {
  return Hex(RandomBytes(bytes));
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string h = Hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

google::protobuf::Timestamp ToTimestamp(cppsvc::Clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  int64_t seconds = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

cppsvc::Clock::time_point FromTimestamp(const google::protobuf::Timestamp& t) {
  auto d = std::chrono::seconds(t.seconds()) + std::chrono::nanoseconds(t.nanos());
  return cppsvc::Clock::time_point(std::chrono::duration_cast<cppsvc::Clock::duration>(d));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ContainsIgnoringCase(std::string_view haystack, std::string_view needle) {
  return Lower(haystack).find(Lower(needle)) != std::string::npos;
}

cppsvc::Status ParsePageToken(const std::string& token, int64_t& cursor) {
  cursor = 0;
  if (token.empty()) return cppsvc::Status::Ok();
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), cursor);
  if (ec != std::errc() || end != token.data() + token.size() || cursor <= 0) {
    cursor = 0;
    return cppsvc::Status::InvalidArgument("page_token: not a token from a previous response");
  }
  return cppsvc::Status::Ok();
}

std::string PageToken(int64_t cursor) {
  return cursor > 0 ? std::to_string(cursor) : std::string();
}

void ExitOnConfigurationProblems(std::string_view service, const cppsvc::config::Env& env) {
  if (env.problems().empty()) return;
  std::string text;
  for (const std::string& p : env.problems()) text += (text.empty() ? "" : "; ") + p;
  std::cerr << service << ": configuration: " << text << std::endl;
  std::exit(2);
}

}  // namespace services
