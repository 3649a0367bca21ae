#include <gtest/gtest.h>

#include "emit/cpp_layout.h"

namespace cppsvc::emit {
namespace {

TEST(CppLayout, OneLineWhenItFits) {
  EXPECT_EQ(LayoutDeclaration(2, "virtual Status Get", {"Ctx& ctx", "const R& r"}, " = 0;"),
            "  virtual Status Get(Ctx& ctx, const R& r) = 0;");
}

TEST(CppLayout, AlignedAfterParenWhenEveryParameterFits) {
  std::string out = LayoutDeclaration(2,
                                      "virtual ::cppsvc::Status AddCartItem",
                                      {"::cppsvc::CallContext& ctx",
                                       "const AddCartItemRequest& request",
                                       "AddCartItemResponse& response"},
                                      " = 0;");
  EXPECT_EQ(out,
            "  virtual ::cppsvc::Status AddCartItem(::cppsvc::CallContext& ctx,\n"
            "                                       const AddCartItemRequest& request,\n"
            "                                       AddCartItemResponse& response) = 0;");
}

TEST(CppLayout, BreaksAfterParenWhenAlignedDoesNotFit) {
  std::string out = LayoutDeclaration(
      2,
      "virtual ::cppsvc::Status OnPaymentFailed",
      {"::cppsvc::EventContext& ctx", "const ::commerce::payments::v1::PaymentFailed& event"},
      " = 0;");
  EXPECT_EQ(out,
            "  virtual ::cppsvc::Status OnPaymentFailed(\n"
            "      ::cppsvc::EventContext& ctx,\n"
            "      const ::commerce::payments::v1::PaymentFailed& event) = 0;");
}

TEST(CppLayout, CommentsWrapAtTheColumnLimit) {
  std::string word(30, 'w');
  std::string out = LayoutComment(2, word + " " + word + " " + word + " " + word);
  EXPECT_EQ(out, "  // " + word + " " + word + " " + word + "\n  // " + word + "\n");
  EXPECT_EQ(LayoutComment(0, "  "), "");
  for (size_t start = 0, end; (end = out.find('\n', start)) != std::string::npos; start = end + 1) {
    EXPECT_LE(end - start, kColumnLimit);
  }
}

TEST(CppLayout, StatementsThatFitAreKept) {
  EXPECT_EQ(LayoutStatement("  p.emplace_back(row.id());"), "  p.emplace_back(row.id());");
}

TEST(CppLayout, LongCallsBreakLikeDeclarations) {
  std::string arg(40, 'a');
  EXPECT_EQ(LayoutStatement("  ::cppsvc::impl::Exec(tx_, k" + arg + ", \"x, (y)\", " + arg + ");"),
            "  ::cppsvc::impl::Exec(tx_,\n"
            "                       k" +
                arg +
                ",\n"
                "                       \"x, (y)\",\n"
                "                       " +
                arg + ");");
}

TEST(CppLayout, LongAssignmentsBreakAfterTheEqualsSign) {
  std::string name(60, 'n');
  EXPECT_EQ(LayoutStatement("  const ::pqxx::result result = ::cppsvc::impl::Exec(tx_, k" + name +
                            ", p);"),
            "  const ::pqxx::result result =\n      ::cppsvc::impl::Exec(tx_, k" + name + ", p);");
}

TEST(CppLayout, LongIfStatementsGetBraces) {
  std::string table(55, 't');
  EXPECT_EQ(LayoutStatement("  if (!row) ::cppsvc::impl::ThrowNotFound(\"" + table + "\");"),
            "  if (!row) {\n    ::cppsvc::impl::ThrowNotFound(\"" + table + "\");\n  }");
}

}  // namespace
}  // namespace cppsvc::emit
