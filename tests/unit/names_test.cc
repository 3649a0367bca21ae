#include <gtest/gtest.h>

#include "model/names.h"

namespace cppsvc::model {
namespace {

TEST(Names, SnakeCase) {
  EXPECT_EQ(SnakeCase("OrdersService"), "orders_service");
  EXPECT_EQ(SnakeCase("HTTPRoute"), "http_route");
  EXPECT_EQ(SnakeCase("OAuth2Token"), "o_auth2_token");
  EXPECT_EQ(SnakeCase("already_snake"), "already_snake");
}

TEST(Names, ShortServiceName) {
  EXPECT_EQ(DefaultShortName("OrdersService"), "orders");
  EXPECT_EQ(DefaultShortName("Service"), "service");  // nothing left to strip to
  EXPECT_EQ(DefaultShortName("Echo"), "echo");
}

TEST(Names, PascalCase) {
  EXPECT_EQ(PascalCase("reserve_stock"), "ReserveStock");
}

TEST(Names, ResolveName) {
  EXPECT_EQ(ResolveName("OrderCreated", "commerce.orders.v1"), "commerce.orders.v1.OrderCreated");
  EXPECT_EQ(ResolveName("commerce.payments.v1.PaymentFailed", "commerce.orders.v1"),
            "commerce.payments.v1.PaymentFailed");
  EXPECT_EQ(ResolveName("Bare", ""), "Bare");
  EXPECT_EQ(ShortName("a.b.C"), "C");
}

TEST(Names, CppNamespaceAndKeywords) {
  EXPECT_EQ(CppNamespace("commerce.orders.v1"), "commerce::orders::v1");
  EXPECT_EQ(CppNamespace(""), "");
  EXPECT_TRUE(IsCppKeyword("class"));
  EXPECT_TRUE(IsCppKeyword("co_await"));
  EXPECT_TRUE(IsCppKeyword("xor_eq"));
  EXPECT_FALSE(IsCppKeyword("orders"));
  EXPECT_FALSE(IsCppKeyword("Class"));
}

}  // namespace
}  // namespace cppsvc::model
