// Router: path templates of the google.api.http grammar matched against
// request paths.
#include "cppsvc/gateway/router.h"

#include <gtest/gtest.h>

namespace cppsvc::gateway {
namespace {

using Kind = Router::Match::Kind;
using Vars = std::vector<std::pair<std::string, std::string>>;

Router Commerce() {
  Router r;
  r.Add("GET", "/v1/products/{product_id}", 0);
  r.Add("PATCH", "/v1/products/{product_id}", 1);
  r.Add("GET", "/v1/products", 2);
  r.Add("GET", "/v1/products:search", 3);
  r.Add("GET", "/v1/users/{user_id}/orders", 4);
  r.Add("GET", "/v1/users/me", 5);
  r.Add("GET", "/v1/{name=shelves/*/books/*}", 6);
  r.Add("GET", "/v1/files/{path=**}", 7);
  r.Add("POST", "/v1/items/{item.id}:cancel", 8);
  return r;
}

TEST(GatewayRouterTest, BindsVariables) {
  const Router::Match m = Commerce().Find("GET", "/v1/products/p-42");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.route, 0u);
  EXPECT_EQ(m.variables, (Vars{{"product_id", "p-42"}}));
}

TEST(GatewayRouterTest, DecodesPercentEscapesInVariables) {
  const Router::Match m = Commerce().Find("GET", "/v1/products/a%20b%2Fc");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.variables, (Vars{{"product_id", "a b/c"}}));
}

TEST(GatewayRouterTest, CustomVerbIsItsOwnRoute) {
  EXPECT_EQ(Commerce().Find("GET", "/v1/products:search").route, 3u);
  EXPECT_EQ(Commerce().Find("GET", "/v1/products").route, 2u);
  const Router::Match m = Commerce().Find("POST", "/v1/items/i7:cancel");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.variables, (Vars{{"item.id", "i7"}}));
  EXPECT_EQ(Commerce().Find("POST", "/v1/items/i7").kind, Kind::kNotFound);
}

TEST(GatewayRouterTest, MoreLiteralSegmentsWin) {
  EXPECT_EQ(Commerce().Find("GET", "/v1/users/me").route, 5u);
  EXPECT_EQ(Commerce().Find("GET", "/v1/users/u1/orders").route, 4u);
}

TEST(GatewayRouterTest, VariablesOverSeveralSegments) {
  Router::Match m = Commerce().Find("GET", "/v1/shelves/s1/books/b2");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.variables, (Vars{{"name", "shelves/s1/books/b2"}}));
  m = Commerce().Find("GET", "/v1/files/a/b/c.txt");
  ASSERT_EQ(m.kind, Kind::kFound);
  EXPECT_EQ(m.variables, (Vars{{"path", "a/b/c.txt"}}));
}

TEST(GatewayRouterTest, WrongMethodListsTheAllowedOnes) {
  const Router::Match m = Commerce().Find("DELETE", "/v1/products/p1");
  EXPECT_EQ(m.kind, Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"GET", "PATCH"}));
}

TEST(GatewayRouterTest, UnknownPathsAndEmptySegmentsAreNotFound) {
  const Router r = Commerce();
  EXPECT_EQ(r.Find("GET", "/v1/orders").kind, Kind::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/products/").kind, Kind::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/products/p1/extra").kind, Kind::kNotFound);
  EXPECT_EQ(r.Find("GET", "v1/products").kind, Kind::kNotFound);
  EXPECT_EQ(r.Find("GET", "").kind, Kind::kNotFound);
  EXPECT_EQ(r.Find("GET", "/v1/products/%zz").kind, Kind::kNotFound);
}

TEST(GatewayRouterTest, RefusesMalformedTemplates) {
  Router r;
  EXPECT_THROW(r.Add("GET", "v1/x", 0), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/{x", 0), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/v1/{x}y", 0), std::invalid_argument);
}

TEST(GatewayRouterTest, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a+b%41", out, true));
  EXPECT_EQ(out, "a bA");
  EXPECT_TRUE(PercentDecode("a+b", out));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(PercentDecode("%4", out));
  EXPECT_FALSE(PercentDecode("%G1", out));
}

}  // namespace
}  // namespace cppsvc::gateway
