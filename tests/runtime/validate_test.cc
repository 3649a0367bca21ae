#include <gtest/gtest.h>

#include "cppsvc/impl/validate.h"

namespace cppsvc::impl {
namespace {

TEST(Validate, PathsAreBuiltFromParents) {
  FieldRef items{nullptr, "items", 2};
  FieldRef quantity{&items, "quantity"};
  EXPECT_EQ(quantity.Path(), "items[2].quantity");
  EXPECT_EQ((FieldRef{nullptr, "email"}).Path(), "email");
  FieldRef tags{&items, "tags", 0};
  EXPECT_EQ(tags.Path(), "items[2].tags[0]");
}

TEST(Validate, ViolationsListEveryFailure) {
  Violations v;
  FieldRef items{nullptr, "items", 2};
  CheckGte(v, {&items, "quantity"}, 0, 1.0);
  CheckEmail(v, {nullptr, "email"}, "not-an-email");
  CheckMinLen(v, {nullptr, "name"}, "ok", 2);  // passes
  EXPECT_EQ(v.ToString(), "items[2].quantity: must be >= 1; email: must be a valid email address");
}

TEST(Validate, LengthsCountCharactersNotBytes) {
  Violations v;
  CheckMaxLen(v, {nullptr, "s"}, "\xC3\xA9\xC3\xA9\xC3\xA9", 3);  // "ééé": 3 characters, 6 bytes
  EXPECT_TRUE(v.empty());
  CheckMaxBytes(v, {nullptr, "b"}, "\xC3\xA9\xC3\xA9\xC3\xA9", 3);
  EXPECT_EQ(v.ToString(), "b: must be at most 3 bytes");
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("a\xE2\x82\xAC"
                       "b"),
            3u);  // a€b
}

TEST(Validate, BoundsJustInsideAndOutside) {
  Violations v;
  CheckGte(v, {nullptr, "a"}, 1, 1.0);
  CheckLte(v, {nullptr, "b"}, 100, 100.0);
  CheckGt(v, {nullptr, "c"}, 0.5, 0.25);
  CheckLt(v, {nullptr, "d"}, -1, 0.0);
  EXPECT_TRUE(v.empty());
  CheckGte(v, {nullptr, "a"}, 0, 1.0);
  CheckLte(v, {nullptr, "b"}, 101, 100.0);
  CheckGt(v, {nullptr, "c"}, 0.25, 0.25);
  CheckLt(v, {nullptr, "d"}, 0, 0.0);
  EXPECT_EQ(v.ToString(), "a: must be >= 1; b: must be <= 100; c: must be > 0.25; d: must be < 0");
}

TEST(Validate, FormatsSkipEmptyUnlessRequired) {
  Violations v;
  CheckUuid(v, {nullptr, "id"}, "");
  CheckEmail(v, {nullptr, "email"}, "");
  EXPECT_TRUE(v.empty());
  CheckRequired(v, {nullptr, "id"}, false);
  EXPECT_EQ(v.ToString(), "id: is required");
}

// One problem, one message: an empty required string is missing, not also
// too short; the other fields are still checked.
TEST(Validate, AMissingFieldGetsOneMessage) {
  Violations v;
  CheckRequired(v, {nullptr, "name"}, false);
  CheckMinLen(v, {nullptr, "name"}, "", 1);
  CheckMinLen(v, {nullptr, "code"}, "", 2);
  EXPECT_EQ(v.ToString(), "name: is required; code: must be at least 2 characters");
  EXPECT_EQ(v.count(), 2u);
}

TEST(Validate, Uuid) {
  EXPECT_TRUE(IsUuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsUuid("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400"));
  EXPECT_FALSE(IsUuid("g23e4567-e89b-12d3-a456-426614174000"));
}

TEST(Validate, Email) {
  EXPECT_TRUE(IsEmail("a@example.com"));
  EXPECT_TRUE(IsEmail("first.last+tag@sub.example.org"));
  EXPECT_FALSE(IsEmail("a@b"));
  EXPECT_FALSE(IsEmail("@example.com"));
  EXPECT_FALSE(IsEmail("a@@example.com"));
  EXPECT_FALSE(IsEmail("a b@example.com"));
  EXPECT_FALSE(IsEmail("a@example..com"));
  EXPECT_FALSE(IsEmail("a@.example.com"));
}

TEST(Validate, PatternEnumItems) {
  Violations v;
  const Pattern sku("^[A-Z0-9-]{3,32}$");
  CheckPattern(v, {nullptr, "sku"}, "AB-12", sku);
  EXPECT_TRUE(v.empty());
  CheckPattern(v, {nullptr, "sku"}, "ab", sku);
  CheckEnumDefined(v, {nullptr, "status"}, false);
  CheckMinItems(v, {nullptr, "items"}, 0, 1);
  CheckMaxItems(v, {nullptr, "items"}, 11, 10);
  EXPECT_EQ(v.ToString(),
            "sku: must match ^[A-Z0-9-]{3,32}$; status: must be a defined value; items: must have "
            "at least 1 "
            "item; items: must have at most 10 items");
}

// std::regex recursed once per character: 30,000 characters overflowed an
// 8 MiB stack. RE2 matches in linear time without recursion.
TEST(Validate, PatternMatchesHugeValuesWithoutRecursion) {
  const Pattern slug("^[a-z0-9]+(-[a-z0-9]+)*$");
  std::string value(4 << 20, 'a');  // gRPC's default message size limit
  EXPECT_TRUE(slug.FullMatch(value));
  value.back() = '!';
  Violations v;
  CheckPattern(v, {nullptr, "slug"}, value, slug);
  EXPECT_EQ(v.ToString(), "slug: must match ^[a-z0-9]+(-[a-z0-9]+)*$");
}

TEST(Validate, PatternSkipsValuesOutsideTheLengthRules) {
  const Pattern slug("^[a-z]+$", 2, 4);
  Violations v;
  CheckPattern(v, {nullptr, "slug"}, "A", slug);      // too short: min_len reports it
  CheckPattern(v, {nullptr, "slug"}, "ABCDE", slug);  // too long: max_len reports it
  EXPECT_TRUE(v.empty()) << v.ToString();
  EXPECT_FALSE(slug.WithinLength("\xc3\xa9"));  // one character of two bytes
  EXPECT_TRUE(slug.WithinLength("\xc3\xa9\xc3\xa9"));
  EXPECT_FALSE(slug.WithinLength("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
  CheckPattern(v, {nullptr, "slug"}, "ABC", slug);
  EXPECT_EQ(v.ToString(), "slug: must match ^[a-z]+$");
}

TEST(Validate, PatternMatchesUtf8Characters) {
  const Pattern word("^.{2}$");
  EXPECT_TRUE(word.FullMatch("\xc3\xa9\xc3\xa9"));
  EXPECT_FALSE(word.FullMatch("\xc3\xa9"));
}

TEST(Validate, PatternThatDoesNotCompileRefusesEveryValue) {
  const Pattern broken("([a-z]");
  Violations v;
  CheckPattern(v, {nullptr, "name"}, "abc", broken);
  EXPECT_EQ(v.ToString(), "name: must match ([a-z]");
}

TEST(Validate, ViolationsKeepTheFirstFiftyAndCountTheRest) {
  Violations v;
  for (int i = 0; i < 1'000'000; ++i) CheckMinLen(v, {nullptr, "tags", i}, "", 1);
  EXPECT_EQ(v.count(), 1'000'000u);
  ASSERT_EQ(v.items().size(), Violations::kMaxKept);
  EXPECT_EQ(v.items().back().first, "tags[49]");
  const std::string text = v.ToString();
  EXPECT_LT(text.size(), 4096u);
  EXPECT_NE(text.find("tags[49]: must be at least 1 characters; and 999950 more"),
            std::string::npos)
      << text.substr(text.size() - 200);
}

TEST(Validate, FormatBound) {
  EXPECT_EQ(FormatBound(1), "1");
  EXPECT_EQ(FormatBound(-3), "-3");
  EXPECT_EQ(FormatBound(0.5), "0.5");
  EXPECT_EQ(FormatBound(0.1), "0.1");
}

}  // namespace
}  // namespace cppsvc::impl
