#include <gtest/gtest.h>

#include "diag/diagnostics.h"

namespace cppsvc::diag {
namespace {

TEST(Diagnostics, FormatsLikeCompilers) {
  EXPECT_EQ(Format({{"a/b.proto", 42, 5}, Severity::kError, "bad thing"}),
            "a/b.proto:42:5: error: bad thing");
  EXPECT_EQ(Format({{"a/b.proto", 0, 0}, Severity::kWarning, "odd"}), "a/b.proto: warning: odd");
}

TEST(Diagnostics, OneDiagnosticIsOneLineWhateverTheContractQuotes) {
  EXPECT_EQ(Format({{"a/b.proto", 3, 1}, Severity::kError, "role 'x\ny\tz\x01\x7f' is bad"}),
            "a/b.proto:3:1: error: role 'x\\ny\\tz\\x01\\x7f' is bad");
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
  EXPECT_EQ(DidYouMean("admin", {"admin", "admins"}), "");
  // Ties go to the first name in sort order, whatever the candidates' order.
  EXPECT_EQ(DidYouMean("cat", {"cut", "bat"}), " (did you mean 'bat'?)");
  EXPECT_EQ(DidYouMean("kitten", {"sitting", "kitchen"}), " (did you mean 'kitchen'?)");
}

TEST(Diagnostics, DidYouMeanIsBoundedOnHostileNames) {
  // A 40,000-character near miss is no typo: no suggestion, and quickly
  // (an unbounded edit distance took seconds here).
  std::string huge(40000, 'a');
  std::vector<std::string> candidates = {huge.substr(1) + "b", "admin"};
  EXPECT_EQ(DidYouMean(huge, candidates), "");
  // A truncated name needs no distance: it is still suggested.
  EXPECT_EQ(DidYouMean(huge, {huge + "b"}), " (did you mean '" + huge + "b'?)");
  std::vector<std::string> many;
  for (int i = 0; i < 20000; ++i)
    many.push_back("role_" + std::to_string(i) + std::string(100, 'x'));
  EXPECT_EQ(DidYouMean("role_17" + std::string(100, 'x') + "y", many),
            " (did you mean 'role_17" + std::string(100, 'x') + "'?)");
}

}  // namespace
}  // namespace cppsvc::diag
