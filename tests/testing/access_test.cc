// ExpectAccess: one call per cell and per kind of bad token, each with a
// subject of its own and the token the cell asks for.

#include "cppsvc/testing/access.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cppsvc::testing {
namespace {

TEST(ExpectAccess, CallsOncePerCellThenOncePerBadToken) {
  static const TestTokens* const tokens = new TestTokens();
  std::set<std::string> subjects;
  size_t calls = 0, without_token = 0;
  auto call = [&](const std::string& token, const std::string& subject) {
    ++calls;
    subjects.insert(subject);
    if (token.empty()) ++without_token;
    return token.empty() ? grpc::StatusCode::UNAUTHENTICATED : grpc::StatusCode::OK;
  };
  const AccessCell cells[] = {
      {"role admin", "admin", grpc::StatusCode::OK},
      {"no token", nullptr, grpc::StatusCode::UNAUTHENTICATED},
  };
  ExpectAccess(*tokens, call, cells, {"admin", grpc::StatusCode::OK});
  EXPECT_EQ(calls, 2 + AllBadTokens().size());
  EXPECT_EQ(subjects.size(), calls);
  EXPECT_EQ(without_token, 1u);
}

}  // namespace
}  // namespace cppsvc::testing
