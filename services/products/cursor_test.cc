#include "products/cursor.h"

#include <gtest/gtest.h>

#include "cppsvc/db/errors.h"

namespace products {
namespace {

TEST(CursorTest, RoundTripsAnyBytesForItsListOnly) {
  const std::vector<std::string> parts{std::string("a:b\0c", 5), "", "12:x"};
  const std::string token = EncodeCursor("list", parts);
  EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(DecodeCursor("list", token, 3), parts);
  EXPECT_THROW(DecodeCursor("other", token, 3), cppsvc::db::InvalidArgument);
  EXPECT_THROW(DecodeCursor("list", token, 2), cppsvc::db::InvalidArgument);
  EXPECT_THROW(DecodeCursor("list", token.substr(0, token.size() - 2), 3),
               cppsvc::db::InvalidArgument);
  EXPECT_THROW(DecodeCursor("list", "0", 3), cppsvc::db::InvalidArgument);
  EXPECT_THROW(DecodeCursor("list", "", 3), cppsvc::db::InvalidArgument);
}

}  // namespace
}  // namespace products
