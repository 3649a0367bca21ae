#include <gtest/gtest.h>

#include "proto_fixture.h"

namespace cppsvc {
namespace {

using testing::Preamble;
using testing::ProtoFixture;

const char* kShop = R"(
// The shop.
service ShopService {
  option (cppsvc.v1.service) = {
    database: "shop" grpc_port: 7001 admin_port: 7002 transports: [TRANSPORT_GRPC, TRANSPORT_NATS]
    default_roles: ["customer"]
    subscribe: [{ event: "ItemSeen" max_deliver: 3 emits: ["ItemCounted"] }]
  };
  // Gets an item.
  rpc GetItem(GetItemRequest) returns (Item) {
    option (cppsvc.v1.method) = {
      owner_field: "owner_id" http: { get: "/v1/items/{item_id}" } emits: ["ItemSeen"]
      idempotent: true retry: { max_attempts: 4 retryable_codes: ["UNAVAILABLE"] }
      rate_limit: { requests_per_second: 10 key: KEY_GLOBAL }
    };
  }
  rpc PutItem(Item) returns (Item) { option (cppsvc.v1.method) = { public: true }; }
}
message GetItemRequest {
  string item_id = 1 [(cppsvc.v1.field) = { validate: { uuid: true required: true } }];
  optional int32 limit = 2 [(cppsvc.v1.field) = { validate: { gte: 1 lte: 100 } }];
}
message Item {
  option (cppsvc.v1.table) = { primary_key: ["item_id"] versioned: true indexes: [{ fields: ["owner_id"] unique: true }] };
  string item_id = 1 [(cppsvc.v1.field) = { generated: GENERATED_UUID }];
  string owner_id = 2;
  int64 version = 3;
  repeated Tag tags = 4;
  message Tag { string name = 1; }
  string new = 5;
}
message ItemSeen { option (cppsvc.v1.event) = { subject: "shop.item.seen" key: "item_id" }; string item_id = 1; }
message ItemCounted { option (cppsvc.v1.event) = { subject: "shop.item.counted" }; string item_id = 1; }
)";

TEST(ModelBuild, ReadsServiceMethodAndOptions) {
  ProtoFixture fx(
      std::map<std::string, std::string>{{"shop/v1/shop.proto", Preamble("shop.v1") + kShop}});
  ASSERT_EQ(fx.parse_errors(), "");
  const model::Model& m = fx.model();
  const model::File* file = m.FindFile("shop/v1/shop.proto");
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(file->generate);
  EXPECT_EQ(file->cpp_namespace, "shop::v1");
  EXPECT_EQ(file->pb_header, "shop/v1/shop.pb.h");
  ASSERT_EQ(file->services.size(), 1u);

  const model::Service& s = file->services[0];
  EXPECT_EQ(s.short_name, "shop");
  EXPECT_EQ(s.base_class, "ShopServiceBase");
  EXPECT_EQ(s.comment, "The shop.");
  EXPECT_EQ(s.database, "shop");
  EXPECT_EQ(s.grpc_port, 7001u);
  EXPECT_TRUE(s.nats);
  EXPECT_EQ(s.stream, "SHOP");
  ASSERT_EQ(s.subscriptions.size(), 1u);
  EXPECT_EQ(s.subscriptions[0].event, "shop.v1.ItemSeen");  // short name resolved in the package
  EXPECT_EQ(s.subscriptions[0].handler, "OnItemSeen");
  EXPECT_EQ(s.subscriptions[0].emits, std::vector<std::string>{"shop.v1.ItemCounted"});
  EXPECT_EQ(s.subscriptions[0].max_deliver, 3u);

  ASSERT_EQ(s.methods.size(), 2u);
  const model::Method& get = s.methods[0];
  EXPECT_EQ(get.input, "shop.v1.GetItemRequest");
  EXPECT_EQ(get.output, "shop.v1.Item");
  EXPECT_EQ(get.comment, "Gets an item.");
  EXPECT_EQ(get.owner_field, "owner_id");
  ASSERT_TRUE(get.http.has_value());
  EXPECT_EQ(get.http->verb, "GET");
  EXPECT_EQ(get.http->path, "/v1/items/{item_id}");
  EXPECT_EQ(get.emits, std::vector<std::string>{"shop.v1.ItemSeen"});
  ASSERT_TRUE(get.retry.has_value());
  EXPECT_EQ(get.retry->max_attempts, 4u);
  ASSERT_TRUE(get.rate_limit.has_value());
  EXPECT_EQ(get.rate_limit->key, "global");
  EXPECT_TRUE(s.methods[1].is_public);
  EXPECT_EQ(fx.Check(), std::vector<std::string>{});
}

TEST(ModelBuild, ReadsMessagesFieldsAndSpans) {
  ProtoFixture fx(
      std::map<std::string, std::string>{{"shop/v1/shop.proto", Preamble("shop.v1") + kShop}});
  const model::Model& m = fx.model();
  const model::Message* item = m.FindMessage("shop.v1.Item");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->cpp_type, "::shop::v1::Item");
  ASSERT_TRUE(item->table.has_value());
  EXPECT_EQ(item->table->name, "items");  // default: snake_case + s
  EXPECT_TRUE(item->table->versioned);
  ASSERT_EQ(item->table->indexes.size(), 1u);
  EXPECT_TRUE(item->table->indexes[0].unique);
  EXPECT_EQ(item->FindField("item_id")->generated, model::GeneratedValue::kUuid);
  EXPECT_EQ(item->FindField("new")->cpp_name, "new_");  // as protoc's C++ generator names it
  EXPECT_TRUE(item->FindField("tags")->repeated);
  EXPECT_EQ(item->FindField("tags")->type_name, "shop.v1.Item.Tag");
  EXPECT_EQ(m.FindMessage("shop.v1.Item.Tag")->cpp_type, "::shop::v1::Item_Tag");

  const model::Message* req = m.FindMessage("shop.v1.GetItemRequest");
  const model::Field* limit = req->FindField("limit");
  EXPECT_TRUE(limit->proto3_optional);
  EXPECT_TRUE(limit->has_presence);
  EXPECT_EQ(*limit->validate.gte, 1);
  EXPECT_EQ(*limit->validate.lte, 100);
  EXPECT_TRUE(req->FindField("item_id")->validate.uuid);
  // Spans are 1-based and point at the element; options at the option.
  EXPECT_EQ(req->span.file, "shop/v1/shop.proto");
  EXPECT_EQ(req->span.line, 24);
  EXPECT_EQ(req->span.column, 1);
  EXPECT_EQ(req->FindField("item_id")->option_span.line, 25);
  EXPECT_EQ(req->FindField("item_id")->option_span.column, 23);  // at "(cppsvc.v1.field)"
  EXPECT_EQ(m.FindEvent("shop.v1.ItemSeen")->event->span.line, 37);
  EXPECT_EQ(m.FindEvent("shop.v1.ItemSeen")->event->span.column, 20);
}

TEST(ModelBuild, IndependentOfFileOrder) {
  std::map<std::string, std::string> files = {
      {"a/v1/a.proto", Preamble("a.v1") + "message A { string id = 1; }\n"},
      {"b/v1/b.proto",
       "syntax = \"proto3\";\npackage b.v1;\nimport \"a/v1/a.proto\";\nmessage B { a.v1.A a = 1; "
       "}\n"}};
  ProtoFixture forward(files, {"a/v1/a.proto", "b/v1/b.proto"});
  ProtoFixture backward(files, {"b/v1/b.proto", "a/v1/a.proto"});
  std::vector<std::string> names_forward, names_backward;
  for (const auto& f : forward.model().files) names_forward.push_back(f.name);
  for (const auto& f : backward.model().files) names_backward.push_back(f.name);
  EXPECT_EQ(names_forward, names_backward);
  EXPECT_TRUE(std::is_sorted(names_forward.begin(), names_forward.end()));
  // Imports are in the model (for cross-file checks) but not generated.
  EXPECT_FALSE(forward.model().FindFile("cppsvc/v1/options.proto")->generate);
}

TEST(ModelBuild, RolesAndSagas) {
  std::string text = Preamble("s.v1") + R"(
option (cppsvc.v1.saga) = {
  name: "flow" owner: "s" trigger: "Started" completed_event: "Done"
  steps: [{ name: "one" participant: "s" success_event: "OneDone" failure_event: "OneFailed" },
          { name: "two" participant: "s" on: "OneDone" success_event: "TwoDone" compensation: { done_event: "TwoUndone" } }]
};
)";
  ProtoFixture fx(std::map<std::string, std::string>{{"s/v1/s.proto", text}});
  const model::File* file = fx.model().FindFile("s/v1/s.proto");
  ASSERT_EQ(file->roles.size(), 2u);
  EXPECT_EQ(file->roles[1].name, "admin");
  EXPECT_EQ(file->roles[1].includes, std::vector<std::string>{"customer"});
  EXPECT_TRUE(file->roles[1].bypass_ownership);
  EXPECT_EQ(file->roles[1].span.line, 5);  // each repeated option has its own location
  ASSERT_EQ(file->sagas.size(), 1u);
  const model::Saga& saga = file->sagas[0];
  EXPECT_EQ(saga.trigger, "s.v1.Started");
  ASSERT_EQ(saga.steps.size(), 2u);
  EXPECT_EQ(saga.steps[0].on, "s.v1.Started");  // first step starts on the trigger
  EXPECT_FALSE(saga.steps[0].on_explicit);
  EXPECT_EQ(saga.steps[1].on, "s.v1.OneDone");
  EXPECT_TRUE(saga.steps[1].has_compensation);
  EXPECT_EQ(saga.steps[1].compensation_done_event, "s.v1.TwoUndone");
}

TEST(ModelBuild, TableColumnsOfShop) {
  ProtoFixture fx(
      std::map<std::string, std::string>{{"shop/v1/shop.proto", Preamble("shop.v1") + kShop}});
  ASSERT_EQ(fx.parse_errors(), "");
  const model::File* file = fx.model().FindFile("shop/v1/shop.proto");
  EXPECT_EQ(file->database, "shop");
  EXPECT_EQ(file->migrations_dir, "shop/v1/migrations");
  EXPECT_EQ(file->migrations_function, "ShopMigrations");
  EXPECT_EQ(file->schema_lock, "shop/v1/shop.schema.lock.json");
  EXPECT_FALSE(file->owns_sagas);

  const model::Table& t = *fx.model().FindMessage("shop.v1.Item")->table;
  EXPECT_EQ(t.database, "shop");
  EXPECT_EQ(t.repository_class, "ItemRepository");
  EXPECT_TRUE(t.has_version_column);
  EXPECT_TRUE(t.version_mapped);
  EXPECT_EQ(t.primary_key_columns, std::vector<std::string>{"item_id"});
  ASSERT_EQ(t.indexes.size(), 1u);
  EXPECT_EQ(t.indexes[0].name, "items_owner_id_key");
  EXPECT_EQ(t.indexes[0].columns, std::vector<std::string>{"owner_id"});

  ASSERT_EQ(t.columns.size(), 5u);
  const model::Column& id = t.columns[0];
  EXPECT_EQ(id.name, "item_id");
  EXPECT_EQ(id.sql_type, "text");
  EXPECT_TRUE(id.primary_key);
  EXPECT_FALSE(id.nullable);
  EXPECT_EQ(id.generated, model::GeneratedValue::kUuid);
  const model::Column& version = t.columns[2];
  EXPECT_TRUE(version.version);
  EXPECT_EQ(version.sql_type, "bigint");
  EXPECT_EQ(version.default_sql, "1");
  const model::Column& tags = t.columns[3];
  EXPECT_EQ(tags.codec, model::ColumnCodec::kJson);
  EXPECT_EQ(tags.sql_type, "jsonb");
  EXPECT_FALSE(tags.nullable);
  EXPECT_EQ(tags.field_index, 3u);
  EXPECT_EQ(tags.field_number, 4);
  EXPECT_EQ(t.ColumnOfField("new")->name, "new");
}

TEST(ModelBuild, ColumnTypesCodecsAndNullability) {
  std::string text = Preamble("t.v1") + R"pb(
import "google/protobuf/timestamp.proto"
    ;
service TService { option (cppsvc.v1.service) = { database: "t" }; }
enum Color { COLOR_UNSPECIFIED = 0; }
message Part { string name = 1; }
message Row {
  option (cppsvc.v1.table) = { primary_key: ["a"] indexes: [{ fields: ["b", "k"] }] };
  bool a = 1;
  int32 b = 2;
  sint32 c = 3;
  uint32 d = 4;
  int64 e = 5;
  uint64 f = 6;
  fixed32 g = 7;
  fixed64 h = 8;
  float i = 9;
  double j = 10;
  string k = 11 [(cppsvc.v1.field) = { column: { name: "renamed" type: "varchar(32)" default: "''" } }];
  bytes l = 12;
  Color m = 13;
  google.protobuf.Timestamp n = 14;
  google.protobuf.Timestamp o = 15 [(cppsvc.v1.field) = { generated: GENERATED_CREATED_AT }];
  Part p = 16;
  repeated Part q = 17;
  map<string, int32> r = 18;
  optional int32 s = 19;
  string t = 20 [(cppsvc.v1.field) = { column: { skip: true } }];
}
)pb";
  ProtoFixture fx(std::map<std::string, std::string>{{"t/v1/t.proto", text}});
  ASSERT_EQ(fx.parse_errors(), "");
  EXPECT_EQ(fx.Check(), std::vector<std::string>{});
  const model::Table& t = *fx.model().FindMessage("t.v1.Row")->table;
  EXPECT_FALSE(t.has_version_column);
  EXPECT_EQ(t.indexes[0].name, "rows_b_renamed_idx");
  std::vector<std::string> got;
  for (const model::Column& c : t.columns) {
    got.push_back(c.name + " " + c.sql_type + (c.nullable ? " null" : "") +
                  (c.default_sql.empty() ? "" : " default " + c.default_sql) + " " +
                  model::CodecName(c.codec));
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "a boolean bool",
                "b integer int32",
                "c integer int32",
                "d bigint uint32",
                "e bigint int64",
                "f numeric(20,0) uint64",
                "g bigint uint32",
                "h numeric(20,0) uint64",
                "i real float",
                "j double precision double",
                "renamed varchar(32) default '' string",
                "l bytea bytes",
                "m integer enum",
                "n timestamptz null timestamp",
                "o timestamptz default now() timestamp",
                "p jsonb null json",
                "q jsonb json",
                "r jsonb json",
                "s integer null int32",
            }));
}

}  // namespace
}  // namespace cppsvc
