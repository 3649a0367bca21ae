#include <gtest/gtest.h>

#include "model/http_path.h"

namespace cppsvc::model {
namespace {

PathTemplate Parse(const std::string& path) {
  PathTemplate t;
  std::string error;
  EXPECT_TRUE(ParsePathTemplate(path, t, error)) << path << ": " << error;
  return t;
}

std::string Error(const std::string& path) {
  PathTemplate t;
  std::string error;
  EXPECT_FALSE(ParsePathTemplate(path, t, error)) << path;
  return error;
}

TEST(HttpPath, LiteralsAndVariables) {
  PathTemplate t = Parse("/v1/orders/{order_id}/items/{item.id}");
  EXPECT_EQ(t.variables, (std::vector<std::string>{"order_id", "item.id"}));
  EXPECT_EQ(t.key, "/v1/orders/{}/items/{}");
  EXPECT_EQ(t.named, "/v1/orders/{order_id}/items/{item.id}");
}

TEST(HttpPath, VariableNamesDoNotChangeTheRoute) {
  EXPECT_EQ(Parse("/v1/items/{id}").key, Parse("/v1/items/{item_id}").key);
  EXPECT_NE(Parse("/v1/items/{id}").key, Parse("/v1/items/{id}/tags").key);
}

TEST(HttpPath, SegmentPatternsAndVerb) {
  PathTemplate t = Parse("/v1/{name=shelves/*/books/**}:publish");
  EXPECT_EQ(t.variables, std::vector<std::string>{"name"});
  EXPECT_EQ(t.key, "/v1/{shelves/*/books/**}:publish");
  EXPECT_EQ(t.named, "/v1/{name}:publish");
  EXPECT_EQ(Parse("/v1/*").key, "/v1/*");
  EXPECT_EQ(Parse("/v1/*/x/**").named, "/v1/*/x/**");
  EXPECT_EQ(Parse("/v1/products:search").named, "/v1/products:search");
}

TEST(HttpPath, Errors) {
  EXPECT_EQ(Error("v1/items"), "invalid path template 'v1/items': must start with '/'");
  EXPECT_EQ(Error("/v1//items"), "invalid path template '/v1//items': empty segment at offset 4");
  EXPECT_EQ(Error("/v1/{id"), "invalid path template '/v1/{id': expected '}'");
  EXPECT_EQ(Error("/v1/{}"),
            "invalid path template '/v1/{}': expected a field name in '{...}' at offset 5");
  EXPECT_EQ(Error("/v1/{a}/{a}"),
            "invalid path template '/v1/{a}/{a}': variable 'a' bound twice at offset 10");
  EXPECT_EQ(Error("/v1/{a={b}}"),
            "invalid path template '/v1/{a={b}}': nested variable at offset 7");
  EXPECT_EQ(Error("/v1/items?x=1"),
            "invalid path template '/v1/items?x=1': unexpected '?' at offset 9");
  EXPECT_EQ(Error("/v1/items:"), "invalid path template '/v1/items:': expected a verb after ':'");
}

TEST(HttpPath, DoubleWildcardComesLast) {
  EXPECT_EQ(Parse("/v1/files/**").key, "/v1/files/**");
  EXPECT_EQ(Parse("/v1/{path=files/**}:list").key, "/v1/{files/**}:list");
  EXPECT_EQ(Error("/v1/**/meta"),
            "invalid path template '/v1/**/meta': a segment follows '**', which matches the rest "
            "of the path and must come last at offset 7");
  EXPECT_EQ(Error("/v1/{p=a/**}/{id}"),
            "invalid path template '/v1/{p=a/**}/{id}': a segment follows '**', which matches the "
            "rest of the path and must come last at offset 13");
}

TEST(HttpPath, ErrorsQuoteWholeCharacters) {
  // "€" is three bytes: the message must hold all three, never the first alone.
  EXPECT_EQ(Error("/v1/caf\xE2\x82\xAC"),
            "invalid path template '/v1/caf\xE2\x82\xAC': unexpected '\xE2\x82\xAC' at offset 7");
}

}  // namespace
}  // namespace cppsvc::model
