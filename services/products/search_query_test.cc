#include "products/search_query.h"

#include <gtest/gtest.h>

namespace products {
namespace {

TEST(SearchQueryTest, WordsAreLowerCasedAndTheLastIsAPrefix) {
  EXPECT_EQ(ToTsQuery("Blue pe"), "blue & pe:*");
  EXPECT_EQ(ToTsQuery("  PEN  "), "pen:*");
  EXPECT_EQ(ToTsQuery("caf\xc3\xa9 cr\xc3\xa8me"), "caf\xc3\xa9 & cr\xc3\xa8me:*");
}

TEST(SearchQueryTest, NothingButWordsReachesPostgreSQL) {
  EXPECT_EQ(ToTsQuery("a&b|c!d(e)f:g*h<->i'j\\k"), "a & b & c & d & e & f & g & h & i & j & k:*");
  EXPECT_EQ(ToTsQuery("!&|():* '"), "");
  EXPECT_EQ(ToTsQuery(""), "");
}

}  // namespace
}  // namespace products
