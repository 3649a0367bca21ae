#include <gtest/gtest.h>

#include "diag/diagnostics.h"

namespace cppsvc::diag {
namespace {

TEST(Diagnostics, FormatsLikeCompilers) {
  EXPECT_EQ(Format({{"a/b.proto", 42, 5}, Severity::kError, "bad thing"}),
            "a/b.proto:42:5: error: bad thing");
  EXPECT_EQ(Format({{"a/b.proto", 0, 0}, Severity::kWarning, "odd"}), "a/b.proto: warning: odd");
}

TEST(Diagnostics, SortedByPositionAndDeduplicated) {
  Diagnostics d;
  d.Error({"b.proto", 1, 1}, "z");
  d.Error({"a.proto", 9, 1}, "y");
  d.Error({"a.proto", 2, 7}, "x");
  d.Error({"a.proto", 2, 7}, "x");
  d.Warning({"a.proto", 3, 1}, "w");
  EXPECT_TRUE(d.HasErrors());
  EXPECT_EQ(FormatAll(d, Severity::kError),
            "a.proto:2:7: error: x\na.proto:9:1: error: y\nb.proto:1:1: error: z");
  EXPECT_EQ(FormatAll(d, Severity::kWarning), "a.proto:3:1: warning: w");
}

TEST(Diagnostics, WarningsAloneAreNotErrorsUntilPromoted) {
  Diagnostics d;
  d.Warning({"a.proto", 3, 1}, "w");
  EXPECT_FALSE(d.HasErrors());
  d.PromoteWarnings();
  EXPECT_TRUE(d.HasErrors());
  EXPECT_EQ(FormatAll(d, Severity::kError), "a.proto:3:1: error: w");
}

TEST(Diagnostics, DidYouMean) {
  std::vector<std::string> roles = {"customer", "admin", "service"};
  EXPECT_EQ(DidYouMean("custmer", roles), " (did you mean 'customer'?)");
  EXPECT_EQ(DidYouMean("admn", roles), " (did you mean 'admin'?)");
  EXPECT_EQ(DidYouMean("cust", roles), " (did you mean 'customer'?)");  // truncated
  EXPECT_EQ(DidYouMean("banana", roles), "");
  EXPECT_EQ(DidYouMean("admin", roles), "");  // exact: nothing to suggest
  EXPECT_EQ(DidYouMean("x", {}), "");
}

}  // namespace
}  // namespace cppsvc::diag
