// The environment a generated main() reads (CheckServiceEnvironment).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/impl/main.h"

namespace cppsvc::impl {
namespace {

bool Mentions(const std::vector<std::string>& problems, const std::string& name) {
  for (const std::string& p : problems) {
    if (p.rfind(name, 0) == 0) return true;
  }
  return false;
}

TEST(ServiceEnvironment, ForeignResourcesIsNotFoundOrPermissionDenied) {
  ServiceEntry entry;
  entry.spec.name = "envtest";
  const std::string name = "ENVTEST_FOREIGN_RESOURCES";
  for (const char* good : {"not_found", "permission_denied"}) {
    ::setenv(name.c_str(), good, 1);
    EXPECT_FALSE(Mentions(CheckServiceEnvironment(entry), name)) << good;
  }
  ::setenv(name.c_str(), "hidden", 1);
  const std::vector<std::string> problems = CheckServiceEnvironment(entry);
  ::unsetenv(name.c_str());
  ASSERT_TRUE(Mentions(problems, name));
  EXPECT_NE(std::find(problems.begin(),
                      problems.end(),
                      name + ": 'hidden' is not one of not_found, permission_denied"),
            problems.end());
}

}  // namespace
}  // namespace cppsvc::impl
