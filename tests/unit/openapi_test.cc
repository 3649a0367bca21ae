#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "emit/emitters.h"
#include "proto_fixture.h"

namespace cppsvc {
namespace {

using Json = nlohmann::ordered_json;
using testing::Preamble;
using testing::ProtoFixture;

const char* kShop = R"(
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

// Items of shops.
service ShopService {
  option (cppsvc.v1.service) = { default_roles: ["customer"] };
  // Returns one item.
  rpc GetItem(GetItemRequest) returns (ItemView) {
    option (cppsvc.v1.method) = { public: true http: { get: "/v1/shops/{shop.id}/items/{item_id}" } };
  }
  rpc PutItem(PutItemRequest) returns (Item) {
    option (cppsvc.v1.method) = {
      roles: ["admin"] http: { put: "/v1/items/{item.id}" body: "*" }
      rate_limit: { requests_per_second: 5 burst: 10 key: KEY_PEER }
    };
  }
  rpc Rename(RenameRequest) returns (RenameResponse) {
    option (cppsvc.v1.method) = { http: { patch: "/v1/items/{item_id}:rename" body: "name" response_body: "item" } };
  }
  rpc DeleteItem(RenameRequest) returns (RenameResponse) {
    option (cppsvc.v1.method) = { http: { delete: "/v1/items/{item_id}" } };
  }
  rpc Internal(RenameRequest) returns (RenameResponse) {}
}

enum Kind {
  KIND_UNSPECIFIED = 0;
  KIND_BOOK = 1;
}

message Shop {
  string id = 1;
  string region = 2;
}

message Page {
  int32 page_size = 1 [(cppsvc.v1.field) = { validate: { gte: 0 lte: 100 } }];
  string page_token = 2;
}

message GetItemRequest {
  Shop shop = 1;
  string item_id = 2 [(cppsvc.v1.field) = { validate: { uuid: true } }];
  Page page = 3;
  repeated string tags = 4;
  repeated Item related = 5;
  map<string, string> labels = 6;
  google.protobuf.Timestamp since = 7;
  google.protobuf.Struct extra = 8;
  Kind kind = 9 [(cppsvc.v1.field) = { validate: { required: true } }];
}

// An item of a shop.
message Item {
  // Item id.
  string id = 1 [(cppsvc.v1.field) = { validate: { required: true uuid: true } }];
  int32 i32 = 2 [(cppsvc.v1.field) = { validate: { gte: 1 lte: 10 } }];
  int64 i64 = 3 [(cppsvc.v1.field) = { validate: { gt: 0 } }];
  uint32 u32 = 4;
  uint64 u64 = 5;
  fixed64 f64 = 6;
  sint32 s32 = 7;
  double ratio = 8 [(cppsvc.v1.field) = { validate: { lt: 1.5 gte: 0 } }];
  float weight = 9;
  bool active = 10;
  bytes data = 11 [(cppsvc.v1.field) = { validate: { min_len: 1 max_len: 6 } }];
  string email = 12 [(cppsvc.v1.field) = { validate: { email: true } }];
  string code = 13 [(cppsvc.v1.field) = { validate: { pattern: "^[A-Z]+$" min_len: 2 max_len: 8 example: "AB" } }];
  repeated string labels = 14 [(cppsvc.v1.field) = { validate: { min_items: 1 max_items: 3 max_len: 10 } }];
  map<string, int64> counts = 15;
  // What it is.
  Kind kind = 16;
  google.protobuf.Timestamp created_at = 17;
  google.protobuf.Duration ttl = 18;
  google.protobuf.Int64Value maybe = 19;
  google.protobuf.Struct meta = 20;
  google.protobuf.Value anything = 21;
  optional string note = 22;
  Item parent = 23;
  string display = 24 [json_name = "shownAs"];
  string name = 25 [(cppsvc.v1.field) = { validate: { required: true } }];
}

// What GetItem answers.
message ItemView {
  string name = 1;
  optional string note = 2;
  repeated string tags = 3;
  Shop shop = 4;
}

message PutItemRequest {
  Item item = 1 [(cppsvc.v1.field) = { validate: { required: true } }];
  string reason = 2 [(cppsvc.v1.field) = { validate: { required: true } }];
}

message RenameRequest {
  string item_id = 1;
  // The new name.
  NameChange name = 2;
  bool dry_run = 3;
}

message NameChange { string name = 1; }

message RenameResponse {
  // The renamed item.
  Item item = 1;
}
)";

const char* kGateway = R"(syntax = "proto3";
package gw.v1;
import public "shop/v1/shop.proto";
)";

class OpenApi : public ::testing::Test {
 protected:
  OpenApi()
      : fx_({{"shop/v1/shop.proto", Preamble("shop.v1") + kShop}, {"gw/v1/gw.proto", kGateway}}) {}

  Json Document(const std::string& file) const {
    EXPECT_EQ(fx_.parse_errors(), "");
    EXPECT_THAT(fx_.Check(), ::testing::IsEmpty());
    const model::File* f = fx_.model().FindFile(file);
    EXPECT_NE(f, nullptr);
    emit::Rendered out;
    emit::EmitOpenApi({fx_.model(), *f}, out);
    EXPECT_EQ(out.outputs.size(), 1U);
    return Json::parse(out.outputs.at(0));
  }

  Json Shop() const { return Document("shop/v1/shop.proto"); }

  static Json Schema(const Json& doc, const std::string& name) {
    return doc.at("components").at("schemas").at(name);
  }
  static Json Property(const Json& doc, const std::string& message, const std::string& name) {
    return Schema(doc, message).at("properties").at(name);
  }
  static std::vector<std::string> Names(const Json& parameters) {
    std::vector<std::string> out;
    for (const Json& p : parameters) out.push_back(p.at("name").get<std::string>());
    return out;
  }

  ProtoFixture fx_;
};

TEST_F(OpenApi, ScalarsFollowTheProto3JsonMapping) {
  const Json doc = Shop();
  auto prop = [&](const std::string& name) { return Property(doc, "shop.v1.Item", name); };
  EXPECT_EQ(prop("i32"),
            Json::parse(R"({"type":"integer","format":"int32","minimum":1,"maximum":10})"));
  EXPECT_EQ(
      prop("i64"),
      Json::parse(R"({"type":"string","format":"int64","minimum":0,"exclusiveMinimum":true})"));
  EXPECT_EQ(prop("u32"), Json::parse(R"({"type":"integer","format":"uint32"})"));
  EXPECT_EQ(prop("u64"), Json::parse(R"({"type":"string","format":"uint64"})"));
  EXPECT_EQ(prop("f64"), Json::parse(R"({"type":"string","format":"uint64"})"));
  EXPECT_EQ(prop("s32"), Json::parse(R"({"type":"integer","format":"int32"})"));
  EXPECT_EQ(prop("ratio"), Json::parse(R"({"type":"number","format":"double","minimum":0,
                                           "maximum":1.5,"exclusiveMaximum":true})"));
  EXPECT_EQ(prop("weight"), Json::parse(R"({"type":"number","format":"float"})"));
  EXPECT_EQ(prop("active"), Json::parse(R"({"type":"boolean"})"));
  // 1 to 6 bytes: 2 (unpadded) to 8 base64 characters.
  EXPECT_EQ(prop("data"),
            Json::parse(R"({"type":"string","format":"byte","minLength":2,"maxLength":8})"));
}

TEST_F(OpenApi, StringRulesBecomeFormatsAndBounds) {
  const Json doc = Shop();
  auto prop = [&](const std::string& name) { return Property(doc, "shop.v1.Item", name); };
  EXPECT_EQ(prop("id"), Json::parse(R"({"description":"Item id.","type":"string","format":"uuid",
                                        "minLength":1})"));
  EXPECT_EQ(prop("email"), Json::parse(R"({"type":"string","format":"email"})"));
  EXPECT_EQ(prop("code"), Json::parse(R"({"type":"string","minLength":2,"maxLength":8,
                                          "pattern":"^[A-Z]+$","example":"AB"})"));
  EXPECT_EQ(prop("labels"), Json::parse(R"({"type":"array","items":{"type":"string","maxLength":10},
                                            "minItems":1,"maxItems":3})"));
  EXPECT_EQ(prop("note"), Json::parse(R"({"type":"string"})"));
  EXPECT_TRUE(Schema(doc, "shop.v1.Item").at("properties").contains("shownAs"));
}

TEST_F(OpenApi, MessagesEnumsMapsAndWellKnownTypes) {
  const Json doc = Shop();
  auto prop = [&](const std::string& name) { return Property(doc, "shop.v1.Item", name); };
  EXPECT_EQ(prop("counts"), Json::parse(R"({"type":"object",
                                            "additionalProperties":{"type":"string","format":"int64"}})"));
  EXPECT_EQ(prop("kind"), Json::parse(R"({"description":"What it is.",
                                          "allOf":[{"$ref":"#/components/schemas/shop.v1.Kind"}]})"));
  EXPECT_EQ(prop("parent"), Json::parse(R"({"$ref":"#/components/schemas/shop.v1.Item"})"));
  EXPECT_EQ(prop("createdAt"), Json::parse(R"({"type":"string","format":"date-time"})"));
  EXPECT_EQ(prop("ttl").at("type"), "string");
  EXPECT_TRUE(prop("ttl").contains("pattern"));
  EXPECT_EQ(prop("maybe"), Json::parse(R"({"type":"string","format":"int64","nullable":true})"));
  EXPECT_EQ(prop("meta"), Json::parse(R"({"type":"object","additionalProperties":true})"));
  EXPECT_EQ(prop("anything"), Json::object());
  EXPECT_EQ(Schema(doc, "shop.v1.Kind"),
            Json::parse(R"({"type":"string","enum":["KIND_UNSPECIFIED","KIND_BOOK"]})"));
  EXPECT_EQ(Schema(doc, "shop.v1.Item").at("description"), "An item of a shop.");
}

TEST_F(OpenApi, ComponentsListExactlyTheReferredSchemasSorted) {
  // Requests are parameters and inline bodies here, not schemas;
  // RenameResponse is one for DeleteItem (Rename answers with its item).
  const Json doc = Shop();
  std::vector<std::string> names;
  for (const auto& [name, schema] : doc.at("components").at("schemas").items())
    names.push_back(name);
  EXPECT_THAT(names,
              ::testing::ElementsAre("Error",
                                     "shop.v1.Item",
                                     "shop.v1.ItemView",
                                     "shop.v1.Kind",
                                     "shop.v1.NameChange",
                                     "shop.v1.RenameResponse",
                                     "shop.v1.Shop"));
}

TEST_F(OpenApi, RequiredFollowsValidationInRequestsAndPresenceInResponses) {
  const Json doc = Shop();
  // Item is a request body (PutItem) and a response: validation decides.
  EXPECT_EQ(Schema(doc, "shop.v1.Item").at("required"), Json::parse(R"(["id","name"])"));
  // Response only: every field without presence is always printed.
  EXPECT_EQ(Schema(doc, "shop.v1.ItemView").at("required"), Json::parse(R"(["name","tags"])"));
  EXPECT_EQ(Schema(doc, "shop.v1.Shop").at("required"), Json::parse(R"(["id","region"])"));
  EXPECT_FALSE(Schema(doc, "shop.v1.NameChange").contains("required"));
}

TEST_F(OpenApi, GetBindsPathVariablesAndQueriesTheRest) {
  const Json op = Shop().at("paths").at("/v1/shops/{shop.id}/items/{item_id}").at("get");
  const Json& params = op.at("parameters");
  EXPECT_THAT(Names(params),
              ::testing::ElementsAre("shop.id",
                                     "item_id",
                                     "shop.region",
                                     "page.pageSize",
                                     "page.pageToken",
                                     "tags",
                                     "since",
                                     "kind"));
  EXPECT_EQ(params[0], Json::parse(R"({"name":"shop.id","in":"path","required":true,
                                       "schema":{"type":"string"}})"));
  EXPECT_EQ(params[1].at("schema"), Json::parse(R"({"type":"string","format":"uuid"})"));
  EXPECT_EQ(params[3].at("schema"),
            Json::parse(R"({"type":"integer","format":"int32","minimum":0,"maximum":100})"));
  EXPECT_EQ(params[5], Json::parse(R"({"name":"tags","in":"query","style":"form","explode":true,
                                       "schema":{"type":"array","items":{"type":"string"}}})"));
  EXPECT_EQ(params[6].at("schema").at("format"), "date-time");
  EXPECT_EQ(params[7], Json::parse(R"({"name":"kind","in":"query","required":true,
                                       "schema":{"$ref":"#/components/schemas/shop.v1.Kind"}})"));
  EXPECT_FALSE(op.contains("requestBody"));
  EXPECT_EQ(op.at("responses").at("200").at("content").at("application/json").at("schema"),
            Json::parse(R"({"$ref":"#/components/schemas/shop.v1.ItemView"})"));
}

TEST_F(OpenApi, WholeBodyLeavesOutPathFields) {
  const Json op = Shop().at("paths").at("/v1/items/{item.id}").at("put");
  EXPECT_EQ(Names(op.at("parameters")), std::vector<std::string>{"item.id"});
  const Json body = op.at("requestBody").at("content").at("application/json").at("schema");
  EXPECT_EQ(body.at("required"), Json::parse(R"(["item","reason"])"));
  const Json item = body.at("properties").at("item");
  EXPECT_FALSE(item.at("properties").contains("id"));
  EXPECT_TRUE(item.at("properties").contains("i32"));
  EXPECT_EQ(item.at("required"), Json::parse(R"(["name"])"));
  EXPECT_EQ(op.at("requestBody").at("required"), true);
}

TEST_F(OpenApi, FieldBodyAndResponseBody) {
  const Json op = Shop().at("paths").at("/v1/items/{item_id}:rename").at("patch");
  EXPECT_EQ(Names(op.at("parameters")), (std::vector<std::string>{"item_id", "dryRun"}));
  EXPECT_EQ(op.at("requestBody"), Json::parse(R"({"description":"The new name.","content":
      {"application/json":{"schema":{"$ref":"#/components/schemas/shop.v1.NameChange"}}},
      "required":true})"));
  EXPECT_EQ(op.at("responses").at("200"), Json::parse(R"({"description":"The renamed item.",
      "content":{"application/json":{"schema":{"$ref":"#/components/schemas/shop.v1.Item"}}}})"));
}

TEST_F(OpenApi, SecurityRolesAndErrors) {
  const Json paths = Shop().at("paths");
  const Json get = paths.at("/v1/shops/{shop.id}/items/{item_id}").at("get");
  EXPECT_EQ(get.at("security"), Json::array());
  EXPECT_FALSE(get.contains("x-cppsvc-roles"));
  EXPECT_FALSE(get.at("responses").contains("401"));
  EXPECT_FALSE(get.at("responses").contains("403"));
  EXPECT_EQ(get.at("responses").at("429"),
            Json::parse(R"({"$ref":"#/components/responses/TooManyRequests"})"));

  const Json put = paths.at("/v1/items/{item.id}").at("put");
  EXPECT_EQ(put.at("security"), Json::parse(R"([{"bearerAuth":[]}])"));
  EXPECT_EQ(put.at("x-cppsvc-roles"), Json::parse(R"(["admin"])"));
  EXPECT_THAT(put.at("description").get<std::string>(), ::testing::HasSubstr("Roles: admin"));
  EXPECT_EQ(put.at("x-cppsvc-rate-limit"),
            Json::parse(R"({"requestsPerSecond":5.0,"burst":10,"key":"peer"})"));
  std::vector<std::string> codes;
  for (const auto& [code, response] : put.at("responses").items()) codes.push_back(code);
  EXPECT_THAT(
      codes,
      ::testing::ElementsAre("200", "400", "401", "403", "404", "409", "429", "500", "503", "504"));
  // Default roles count as roles.
  EXPECT_EQ(paths.at("/v1/items/{item_id}").at("delete").at("x-cppsvc-roles"),
            Json::parse(R"(["customer"])"));
}

TEST_F(OpenApi, DocumentHeaderPathsAndOperations) {
  const Json doc = Shop();
  EXPECT_EQ(doc.at("openapi"), "3.0.3");
  EXPECT_EQ(doc.at("x-source"), "shop/v1/shop.proto");
  EXPECT_EQ(doc.at("info").at("title"), "shop.v1");
  EXPECT_EQ(doc.at("info").at("version"), "v1");
  std::vector<std::string> routes;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [verb, op] : item.items()) routes.push_back(verb + " " + path);
  }
  // Sorted by path; the rpc without an http rule is not a route.
  EXPECT_THAT(routes,
              ::testing::ElementsAre("put /v1/items/{item.id}",
                                     "delete /v1/items/{item_id}",
                                     "patch /v1/items/{item_id}:rename",
                                     "get /v1/shops/{shop.id}/items/{item_id}"));
  const Json get = doc.at("paths").at("/v1/shops/{shop.id}/items/{item_id}").at("get");
  EXPECT_EQ(get.at("operationId"), "ShopService_GetItem");
  EXPECT_EQ(get.at("tags"), Json::parse(R"(["ShopService"])"));
  EXPECT_EQ(doc.at("tags"),
            Json::parse(R"([{"name":"ShopService","description":"Items of shops."}])"));
  const Json bearer = doc.at("components").at("securitySchemes").at("bearerAuth");
  EXPECT_EQ(bearer.at("scheme"), "bearer");
  EXPECT_EQ(bearer.at("bearerFormat"), "JWT");
}

TEST_F(OpenApi, PublicImportsBringTheirRoutesIntoView) {
  const Json shop = Shop();
  const Json gateway = Document("gw/v1/gw.proto");
  EXPECT_EQ(gateway.at("paths"), shop.at("paths"));
  EXPECT_EQ(gateway.at("components"), shop.at("components"));
  EXPECT_EQ(gateway.at("info").at("title"), "gw.v1");
}

TEST(OpenApiMinimal, AFileWithoutRoutesHasEmptyPaths) {
  ProtoFixture fx({{"plain/plain.proto", Preamble("plain") + R"(
service PlainService {
  option (cppsvc.v1.service) = { default_roles: ["customer"] };
  rpc Ping(Pong) returns (Pong) {}
}
message Pong {}
)"}});
  emit::Rendered out;
  emit::EmitOpenApi({fx.model(), *fx.model().FindFile("plain/plain.proto")}, out);
  const Json doc = Json::parse(out.outputs.at(0));
  EXPECT_EQ(doc.at("paths"), Json::object());
  EXPECT_FALSE(doc.contains("components"));
  EXPECT_EQ(doc.at("info").at("version"), "unversioned");
}

}  // namespace
}  // namespace cppsvc
