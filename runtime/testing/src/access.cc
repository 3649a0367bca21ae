// ExpectAccess: the loops every generated access test used to repeat.

#include "cppsvc/testing/access.h"

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cppsvc::testing {

std::string NextSubject() {
  static std::atomic<int> subjects{0};
  std::string n = std::to_string(++subjects);
  return "00000000-0000-4000-8000-" + std::string(12 - n.size(), '0') + n;
}

void ExpectAccess(const TestTokens& tokens,
                  const AccessCall& call,
                  std::span<const AccessCell> cells) {
  for (const AccessCell& cell : cells) {
    SCOPED_TRACE(cell.name);
    const std::string subject = NextSubject();
    std::string token;
    if (cell.role != nullptr) token = tokens.Valid(subject, {cell.role});
    EXPECT_EQ(call(token, subject), cell.code);
  }
}

void ExpectAccess(const TestTokens& tokens,
                  const AccessCall& call,
                  std::span<const AccessCell> cells,
                  BadTokenCell bad) {
  ExpectAccess(tokens, call, cells);
  for (BadToken kind : AllBadTokens()) {
    SCOPED_TRACE(std::string(BadTokenName(kind)));
    const std::string subject = NextSubject();
    std::vector<std::string> roles;
    if (bad.role != nullptr) roles.push_back(bad.role);
    EXPECT_EQ(call(tokens.Bad(kind, subject, roles), subject), bad.code);
  }
}

}  // namespace cppsvc::testing
