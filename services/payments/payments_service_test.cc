#include "payments/payments_service.h"

#include <gtest/gtest.h>

#include "common/util.h"

namespace payments {
namespace {

using cppsvc::StatusCode;

constexpr char kUser[] = "7d0b4c2e-0000-4000-8000-00000000a11c";
constexpr char kSecret[] = "whsec-test";

class ScriptedProvider : public PaymentProvider {
 public:
  v1::ProviderOutcome outcome = v1::PROVIDER_OUTCOME_SUCCEEDED;
  int charges = 0;
  int64_t refunded = 0;
  std::string name() const override { return "acme_pay"; }
  ProviderCharge Charge(const Payment&) override {
    ++charges;
    ProviderCharge c;
    c.outcome = outcome;
    c.provider_payment_id = "ch_" + std::to_string(charges);
    if (outcome == v1::PROVIDER_OUTCOME_FAILED) c.failure_reason = "card declined";
    return c;
  }
  cppsvc::Status Refund(const Payment&, int64_t amount) override {
    refunded += amount;
    return cppsvc::Status::Ok();
  }
};

cppsvc::CallContext Ctx(std::vector<std::string> roles) {
  return cppsvc::CallContext(cppsvc::Caller{"caller", std::move(roles), "jti"},
                             cppsvc::Clock::now() + std::chrono::seconds(5),
                             "m",
                             "t");
}

class PaymentsServiceTest : public ::testing::Test {
 protected:
  PaymentsServiceTest()
      : service(std::make_unique<PaymentsService>(std::make_shared<InMemoryPaymentStore>(),
                                                  provider,
                                                  outbox,
                                                  kSecret)) {}

  cppsvc::Status Charge(const std::string& key,
                        const std::string& order,
                        int64_t amount,
                        Payment& out) {
    auto ctx = Ctx({"service"});
    v1::ChargeRequest req;
    req.set_idempotency_key(key);
    req.set_order_id(order);
    req.set_user_id(kUser);
    req.set_amount_cents(amount);
    v1::ChargeResponse resp;
    cppsvc::Status s = service->Charge(ctx, req, resp);
    out = resp.payment();
    return s;
  }

  Payment MustCharge(int64_t amount) {
    Payment p;
    EXPECT_TRUE(Charge("key-" + services::NewUuid(), services::NewUuid(), amount, p).ok());
    return p;
  }

  cppsvc::Status Refund(const std::string& request_id,
                        const std::string& payment_id,
                        std::optional<int64_t> amount,
                        Payment* out = nullptr) {
    auto ctx = Ctx({"admin"});
    v1::RefundRequest req;
    req.set_request_id(request_id);
    req.set_payment_id(payment_id);
    if (amount) req.set_amount_cents(*amount);
    req.set_reason("damaged");
    v1::RefundResponse resp;
    cppsvc::Status s = service->Refund(ctx, req, resp);
    if (out) *out = resp.payment();
    return s;
  }

  v1::ProviderWebhookRequest Webhook(const std::string& event_id,
                                     const std::string& payment_id,
                                     v1::ProviderOutcome outcome,
                                     const std::string& secret = kSecret) {
    v1::ProviderWebhookRequest req;
    req.set_provider("acme_pay");
    req.set_provider_event_id(event_id);
    req.set_payment_id(payment_id);
    req.set_outcome(outcome);
    req.set_signature(HmacSha256Hex(secret, PaymentsService::SignedText(req)));
    return req;
  }

  cppsvc::Status Post(const v1::ProviderWebhookRequest& req, bool* applied = nullptr) {
    auto ctx = Ctx({});
    v1::ProviderWebhookResponse resp;
    cppsvc::Status s = service->ProviderWebhook(ctx, req, resp);
    if (applied) *applied = resp.applied();
    return s;
  }

  std::shared_ptr<ScriptedProvider> provider = std::make_shared<ScriptedProvider>();
  std::shared_ptr<services::InMemoryOutbox> outbox = std::make_shared<services::InMemoryOutbox>();
  std::unique_ptr<v1::PaymentsServiceBase> service;
};

TEST(HmacTest, KnownVector) {
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST_F(PaymentsServiceTest, ChargeIsIdempotentPerKey) {
  const std::string order = services::NewUuid();
  Payment first, again;
  ASSERT_TRUE(Charge("key-00000001", order, 1200, first).ok());
  EXPECT_EQ(first.status(), v1::PAYMENT_STATUS_SUCCEEDED);
  EXPECT_EQ(first.provider(), "acme_pay");
  EXPECT_EQ(first.provider_payment_id(), "ch_1");
  ASSERT_TRUE(Charge("key-00000001", order, 1200, again).ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(provider->charges, 1);
  auto processed = outbox->EventsOf<v1::PaymentProcessed>();
  ASSERT_EQ(processed.size(), 1u);
  EXPECT_EQ(processed[0].amount_cents(), 1200);
  EXPECT_EQ(processed[0].payment_id(), first.id());

  EXPECT_EQ(Charge("key-00000001", services::NewUuid(), 1200, again).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Charge("key-00000002", order, 1200, again).code(), StatusCode::kAlreadyExists);
}

TEST_F(PaymentsServiceTest, DeclinedChargeFails) {
  provider->outcome = v1::PROVIDER_OUTCOME_FAILED;
  Payment p = MustCharge(500);
  EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_FAILED);
  EXPECT_EQ(p.failure_reason(), "card declined");
  auto failed = outbox->EventsOf<v1::PaymentFailed>();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].reason(), "card declined");
  EXPECT_TRUE(outbox->EventsOf<v1::PaymentProcessed>().empty());
}

TEST_F(PaymentsServiceTest, WebhookSettlesPendingPaymentOnce) {
  provider->outcome = v1::PROVIDER_OUTCOME_UNSPECIFIED;  // settles asynchronously
  Payment p = MustCharge(700);
  ASSERT_EQ(p.status(), v1::PAYMENT_STATUS_PENDING);
  EXPECT_TRUE(outbox->Events().empty());

  bool applied = false;
  auto hook = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  ASSERT_TRUE(Post(hook, &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(Post(hook, &applied).ok());  // redelivered: the first answer
  EXPECT_TRUE(applied);
  EXPECT_EQ(outbox->EventsOf<v1::PaymentProcessed>().size(), 1u);

  ASSERT_TRUE(Post(Webhook("evt_2", p.id(), v1::PROVIDER_OUTCOME_FAILED), &applied).ok());  // late
  EXPECT_FALSE(applied);
  auto ctx = Ctx({"customer"});
  v1::GetPaymentRequest get;
  get.set_payment_id(p.id());
  v1::GetPaymentResponse got;
  ASSERT_TRUE(service->GetPayment(ctx, get, got).ok());
  EXPECT_EQ(got.payment().status(), v1::PAYMENT_STATUS_SUCCEEDED);
}

TEST_F(PaymentsServiceTest, WebhookNeedsAValidSignature) {
  provider->outcome = v1::PROVIDER_OUTCOME_UNSPECIFIED;
  Payment p = MustCharge(700);
  EXPECT_EQ(Post(Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED, "wrong")).code(),
            StatusCode::kUnauthenticated);
  auto tampered = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_FAILED);
  tampered.set_outcome(v1::PROVIDER_OUTCOME_SUCCEEDED);
  EXPECT_EQ(Post(tampered).code(), StatusCode::kUnauthenticated);

  auto unknown = Webhook("evt_1", services::NewUuid(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  EXPECT_EQ(Post(unknown).code(), StatusCode::kNotFound);
  auto other = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  other.set_provider("other_pay");
  other.set_signature(HmacSha256Hex(kSecret, PaymentsService::SignedText(other)));
  EXPECT_EQ(Post(other).code(), StatusCode::kFailedPrecondition);

  PaymentsService no_secret(std::make_shared<InMemoryPaymentStore>(), provider, outbox, "");
  auto ctx = Ctx({});
  v1::ProviderWebhookResponse resp;
  EXPECT_EQ(
      no_secret
          .ProviderWebhook(ctx, Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED, ""), resp)
          .code(),
      StatusCode::kUnauthenticated);
}

TEST_F(PaymentsServiceTest, RefundsPartiallyThenFullyOncePerRequest) {
  Payment p = MustCharge(1000);
  Payment after;
  const std::string request = services::NewUuid();
  ASSERT_TRUE(Refund(request, p.id(), 300, &after).ok());
  EXPECT_EQ(after.refunded_cents(), 300);
  EXPECT_EQ(after.status(), v1::PAYMENT_STATUS_SUCCEEDED);
  ASSERT_TRUE(Refund(request, p.id(), 300, &after).ok());  // retried
  EXPECT_EQ(after.refunded_cents(), 300);
  EXPECT_EQ(provider->refunded, 300);

  EXPECT_EQ(Refund(services::NewUuid(), p.id(), 701).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Refund(services::NewUuid(), p.id(), std::nullopt, &after).ok());  // the rest
  EXPECT_EQ(after.refunded_cents(), 1000);
  EXPECT_EQ(after.status(), v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_EQ(Refund(services::NewUuid(), p.id(), 1).code(), StatusCode::kFailedPrecondition);

  auto refunds = outbox->EventsOf<v1::PaymentRefunded>();
  ASSERT_EQ(refunds.size(), 2u);
  EXPECT_EQ(refunds[0].amount_cents(), 300);
  EXPECT_EQ(refunds[1].amount_cents(), 700);
  EXPECT_EQ(Refund(services::NewUuid(), services::NewUuid(), 1).code(), StatusCode::kNotFound);
}

TEST_F(PaymentsServiceTest, FailedPaymentsCannotBeRefunded) {
  provider->outcome = v1::PROVIDER_OUTCOME_FAILED;
  Payment p = MustCharge(1000);
  EXPECT_EQ(Refund(services::NewUuid(), p.id(), std::nullopt).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(PaymentsServiceTest, GetPaymentOfUnknownIdIsNotFound) {
  auto ctx = Ctx({"customer"});
  v1::GetPaymentRequest req;
  req.set_payment_id(services::NewUuid());
  v1::GetPaymentResponse resp;
  EXPECT_EQ(service->GetPayment(ctx, req, resp).code(), StatusCode::kNotFound);
}

TEST_F(PaymentsServiceTest, SagaStepChargesOnceAndItsUndoRefunds) {
  cppsvc::EventContext ectx("e", "s", 1, "t");
  commerce::products::v1::StockReserved reserved;
  reserved.set_order_id(services::NewUuid());
  reserved.set_user_id(kUser);
  reserved.set_amount_cents(900);
  auto first = service->CheckoutProcessPayment(ectx, reserved);
  auto again = service->CheckoutProcessPayment(ectx, reserved);
  ASSERT_TRUE(first.succeeded());
  ASSERT_TRUE(again.succeeded());
  EXPECT_EQ(provider->charges, 1);
  EXPECT_EQ(first.success().payment_id(), again.success().payment_id());

  cppsvc::sagas::Undo undo{"checkout", "process_payment", reserved.order_id(), "aborted"};
  v1::PaymentRefunded refunded;
  ASSERT_TRUE(service->UndoCheckoutProcessPayment(ectx, undo, refunded).ok());
  EXPECT_EQ(provider->refunded, 900);
  EXPECT_EQ(refunded.payment_id(), first.success().payment_id());

  undo.id = services::NewUuid();  // never paid: nothing to refund
  v1::PaymentRefunded none;
  EXPECT_TRUE(service->UndoCheckoutProcessPayment(ectx, undo, none).ok());
  EXPECT_EQ(provider->refunded, 900);
}

}  // namespace
}  // namespace payments
