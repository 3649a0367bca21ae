#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cppsvc/defaults.h"
#include "proto_fixture.h"

namespace cppsvc {
namespace {

using ::testing::ElementsAre;
using testing::Preamble;
using testing::ProtoFixture;

const char* kShop = R"(
service ShopService {
  option (cppsvc.v1.service) = {
    default_roles: ["customer"] default_timeout_ms: 700
    default_retry: { max_attempts: 5 retryable_codes: ["UNAVAILABLE"] }
    subscribe: [{ event: "ItemSeen" emits: ["ItemCounted", "ItemSeen"] },
                { event: "bank.v1.Paid" queue_group: "billing" max_deliver: 9 ack_wait_ms: 1500 }]
    publishes: ["ItemCounted"]
  };
  rpc GetItem(Item) returns (Item) {
    option (cppsvc.v1.method) = { emits: ["ItemSeen"] timeout_ms: 250 idempotency_key: "item_id"
                                  retry: { initial_backoff_ms: 10 backoff_multiplier: 3 } };
  }
  rpc PutItem(Item) returns (Item) { option (cppsvc.v1.method) = { roles: ["admin"] emits: ["ItemSeen"] }; }
}
message Item { string item_id = 1; }
message ItemSeen { option (cppsvc.v1.event) = { subject: "shop.item.seen" }; string item_id = 1; }
message ItemCounted { option (cppsvc.v1.event) = { subject: "shop.item.counted" }; string item_id = 1; }
)";

const char* kBank = R"(
service BankService {
  option (cppsvc.v1.service) = { name: "bank" stream: "MONEY" publishes: ["Paid"]
                                 foreign_resources: FOREIGN_PERMISSION_DENIED };
  rpc Pay(Paid) returns (Paid) { option (cppsvc.v1.method) = { public: true }; }
}
message Paid { option (cppsvc.v1.event) = { subject: "bank.paid" }; string id = 1; }
)";

class Resolve : public ::testing::Test {
 protected:
  Resolve()
      : fx_({{"shop/v1/shop.proto",
              Preamble("shop.v1") + "import \"bank/v1/bank.proto\";\n" + kShop},
             {"bank/v1/bank.proto",
              "syntax = \"proto3\";\npackage bank.v1;\nimport \"cppsvc/v1/options.proto\";\n" +
                  std::string(kBank)}}) {}

  const model::Service& Shop() const {
    return fx_.model().FindFile("shop/v1/shop.proto")->services[0];
  }
  const model::Service& Bank() const {
    return fx_.model().FindFile("bank/v1/bank.proto")->services[0];
  }

  ProtoFixture fx_;
};

TEST_F(Resolve, RolesAfterTheServiceDefaults) {
  ASSERT_EQ(fx_.parse_errors(), "");
  EXPECT_THAT(Shop().methods[0].effective_roles, ElementsAre("customer"));
  EXPECT_THAT(Shop().methods[1].effective_roles, ElementsAre("admin"));
  EXPECT_THAT(Bank().methods[0].effective_roles, ElementsAre());
}

TEST_F(Resolve, TimeoutsFromMethodThenServiceThenDefault) {
  EXPECT_EQ(Shop().methods[0].effective_timeout_ms, 250u);
  EXPECT_EQ(Shop().methods[1].effective_timeout_ms, 700u);
  EXPECT_EQ(Bank().methods[0].effective_timeout_ms, defaults::kRpcTimeout.count());
}

TEST_F(Resolve, RetryFromMethodThenServiceWithDefaultsFilledIn) {
  const model::Method& get = Shop().methods[0];
  ASSERT_TRUE(get.effective_retry.has_value());
  EXPECT_EQ(get.effective_retry->max_attempts, static_cast<uint32_t>(defaults::kRetryMaxAttempts));
  EXPECT_EQ(get.effective_retry->initial_backoff_ms, 10u);
  EXPECT_EQ(get.effective_retry->max_backoff_ms, defaults::kRetryMaxBackoff.count());
  EXPECT_EQ(get.effective_retry->backoff_multiplier, 3.0);
  const model::Method& put = Shop().methods[1];
  ASSERT_TRUE(put.effective_retry.has_value());
  EXPECT_EQ(put.effective_retry->max_attempts, 5u);
  EXPECT_EQ(put.effective_retry->backoff_multiplier, defaults::kRetryMultiplier);
  EXPECT_THAT(put.effective_retry->retryable_codes, ElementsAre("UNAVAILABLE"));
  EXPECT_FALSE(Bank().methods[0].effective_retry.has_value());
}

TEST_F(Resolve, IdempotencyAndNatsSubject) {
  EXPECT_TRUE(Shop().methods[0].effective_idempotent);  // through its idempotency key
  EXPECT_FALSE(Shop().methods[1].effective_idempotent);
  EXPECT_EQ(Shop().methods[0].nats_subject, "cppsvc.shop.GetItem");
}

TEST_F(Resolve, ClassNamesPortsAndStreams) {
  const model::Service& s = Shop();
  EXPECT_EQ(s.base_class, "ShopServiceBase");
  EXPECT_EQ(s.server_class, "ShopServiceServer");
  EXPECT_EQ(s.client_class, "ShopServiceClient");
  EXPECT_EQ(s.contract_test_class, "ShopServiceContract");
  EXPECT_EQ(s.effective_grpc_port, defaults::kGrpcPort);
  EXPECT_EQ(s.effective_admin_port, defaults::kAdminPort);
  EXPECT_EQ(s.stream, "SHOP");
  EXPECT_EQ(Bank().stream, "MONEY");
}

TEST_F(Resolve, ForeignResources) {
  EXPECT_EQ(Shop().effective_foreign_resources, defaults::kForeignResources);
  EXPECT_EQ(defaults::kForeignResources, ForeignResources::kNotFound);
  EXPECT_EQ(Bank().effective_foreign_resources, ForeignResources::kPermissionDenied);
}

TEST_F(Resolve, PublishedEventsOnceEachWithEveryOrigin) {
  using Source = model::PublishedEvent::Source;
  const std::vector<model::PublishedEvent>& published = Shop().published;
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].event, "shop.v1.ItemSeen");
  ASSERT_EQ(published[0].origins.size(), 3u);
  EXPECT_EQ(published[0].origins[0].source, Source::kRpc);
  EXPECT_EQ(published[0].origins[0].name, "GetItem");
  EXPECT_EQ(published[0].origins[1].name, "PutItem");
  EXPECT_EQ(published[0].origins[2].source, Source::kSubscription);
  EXPECT_EQ(published[0].origins[2].name, "shop.v1.ItemSeen");
  EXPECT_EQ(published[1].event, "shop.v1.ItemCounted");
  ASSERT_EQ(published[1].origins.size(), 2u);
  EXPECT_EQ(published[1].origins[1].source, Source::kService);
}

TEST_F(Resolve, ConsumerSettings) {
  const model::Subscription& own = Shop().subscriptions[0];
  EXPECT_EQ(own.handler, "OnItemSeen");
  EXPECT_EQ(own.effective_queue_group, "shop");
  EXPECT_EQ(own.durable, "shop-OnItemSeen");
  EXPECT_EQ(own.stream, "SHOP");
  EXPECT_EQ(own.effective_max_deliver, static_cast<uint32_t>(defaults::kMaxDeliver));
  EXPECT_EQ(own.effective_ack_wait_ms, defaults::kAckWait.count());
  const model::Subscription& paid = Shop().subscriptions[1];
  EXPECT_EQ(paid.durable, "billing-OnPaid");
  EXPECT_EQ(paid.stream, "MONEY");  // the publisher's
  EXPECT_EQ(paid.effective_max_deliver, 9u);
  EXPECT_EQ(paid.effective_ack_wait_ms, 1500u);
}

}  // namespace
}  // namespace cppsvc
