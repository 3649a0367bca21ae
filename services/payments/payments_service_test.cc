#include "payments/payments_service.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "commerce/payments/v1/payments.cppsvc.repo.h"
#include "commerce/payments/v1/payments.cppsvc.server.h"
#include "common/util.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/testing/saga_harness.h"
#include "cppsvc/testing/test_database.h"
#include "payments/webhook.h"

namespace payments {
namespace {

using commerce::products::v1::StockReserved;
using cppsvc::Status;
using cppsvc::StatusCode;

constexpr char kUser[] = "7d0b4c2e-0000-4000-8000-00000000a11c";
constexpr char kSecret[] = "whsec-test";
constexpr char kStepDurable[] = "payments-saga-checkout-process_payment";
constexpr auto kSlow = std::chrono::milliseconds(300);

// The simulated provider, counting what reached it.
class CountingProvider : public PaymentProvider {
 public:
  std::string name() const override { return inner.name(); }
  Status Charge(const ChargeAttempt& attempt, ProviderCharge& charge) override {
    ++attempts;
    Status s = inner.Charge(attempt, charge);
    if (s.ok()) ++charges;
    return s;
  }
  Status Refund(const v1::Payment& payment, int64_t amount, std::string& id) override {
    refunded += amount;
    return inner.Refund(payment, amount, id);
  }
  SimulatedProvider inner{kSlow};
  std::atomic<int> attempts{0};
  std::atomic<int> charges{0};
  std::atomic<int64_t> refunded{0};
};

// The payments service on a database of its own; each call runs in a
// transaction of its own, as the generated server and consumers run it.
class PaymentsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = cppsvc::testing::TestDatabase::Create(v1::PaymentsServiceServer::Migrations(), &why);
    if (!db_) GTEST_SKIP() << why;
    service_ = std::make_unique<PaymentsService>(provider_, kSecret);
    server_ =
        std::make_unique<v1::PaymentsServiceServer>(*service_, cppsvc::impl::ServiceOptions{});
    steps_ = std::make_unique<cppsvc::testing::StepHarness>(server_->Subscriptions(), *db_->pool());
    steps_->AddStep("process_payment",
                    "checkout",
                    kStepDurable,
                    std::string(kStepDurable) + "-undo",
                    "commerce.products.v1.StockReserved",
                    "order_id");
  }

  template <typename Body>
  Status InTx(Body body) {
    return cppsvc::db::RunInTransaction(*db_->pool(),
                                        cppsvc::Clock::now() + std::chrono::seconds(10),
                                        [&](cppsvc::db::Tx& tx) { return body(tx); });
  }

  template <typename Call>
  Status As(std::vector<std::string> roles, Call call) {
    return InTx([&](cppsvc::db::Tx& tx) {
      cppsvc::CallContext ctx(cppsvc::Caller{kUser, roles, "jti"},
                              cppsvc::Clock::now() + std::chrono::seconds(10),
                              "m",
                              "t");
      ctx.set_tx(&tx);
      return call(ctx);
    });
  }

  // Delivers StockReserved to the generated step consumer, as JetStream does.
  Status Step(const std::string& order, int64_t amount) {
    StockReserved event;
    event.set_order_id(order);
    event.set_user_id(kUser);
    event.set_amount_cents(amount);
    for (const auto& route : server_->Subscriptions()) {
      if (route.durable != kStepDurable) continue;
      return InTx([&](cppsvc::db::Tx& tx) {
        cppsvc::EventContext ctx(services::NewUuid(), std::string(route.subject), 1, "t");
        ctx.set_tx(&tx);
        return route.handle(ctx, event.SerializeAsString());
      });
    }
    return Status(StatusCode::kNotFound, "no step route");
  }

  Status Charge(const std::string& order,
                int64_t amount,
                const std::string& card,
                v1::Payment* out = nullptr) {
    v1::ChargeRequest req;
    req.set_idempotency_key("key-" + services::NewUuid());
    req.set_order_id(order);
    req.set_user_id(kUser);
    req.set_amount_cents(amount);
    req.set_card_token(card);
    v1::ChargeResponse resp;
    Status s =
        As({"service"}, [&](cppsvc::CallContext& ctx) { return service_->Charge(ctx, req, resp); });
    if (out != nullptr) *out = resp.payment();
    return s;
  }

  Status Refund(const std::string& request_id,
                const std::string& payment_id,
                std::optional<int64_t> amount,
                v1::Payment* out = nullptr) {
    v1::RefundRequest req;
    req.set_request_id(request_id);
    req.set_payment_id(payment_id);
    if (amount) req.set_amount_cents(*amount);
    req.set_reason("damaged");
    v1::RefundResponse resp;
    Status s =
        As({"admin"}, [&](cppsvc::CallContext& ctx) { return service_->Refund(ctx, req, resp); });
    if (out != nullptr) *out = resp.payment();
    return s;
  }

  std::optional<v1::Payment> PaymentOf(const std::string& order) {
    std::optional<v1::Payment> found;
    EXPECT_TRUE(InTx([&](cppsvc::db::Tx& tx) {
                  v1::PaymentFilter filter;
                  filter.order_id = order;
                  auto rows = v1::PaymentRepository(tx).List(filter).rows;
                  EXPECT_LE(rows.size(), 1u);
                  if (!rows.empty()) found = rows.front();
                  return Status::Ok();
                }).ok());
    return found;
  }

  int64_t Count(const std::string& sql, const std::string& arg) {
    int64_t n = -1;
    EXPECT_TRUE(InTx([&](cppsvc::db::Tx& tx) {
                  n = tx.exec_params(sql, arg)[0][0].as<int64_t>();
                  return Status::Ok();
                }).ok());
    return n;
  }

  // A payment the provider has not settled yet, as an asynchronous provider
  // leaves it.
  v1::Payment PendingPayment() {
    v1::Payment p;
    p.set_order_id(services::NewUuid());
    p.set_user_id(kUser);
    p.set_amount_cents(700);
    p.set_status(v1::PAYMENT_STATUS_PENDING);
    p.set_provider(provider_->name());
    EXPECT_TRUE(InTx([&](cppsvc::db::Tx& tx) {
                  v1::PaymentRepository(tx).Insert(p);
                  return Status::Ok();
                }).ok());
    return p;
  }

  v1::ProviderWebhookRequest Webhook(const std::string& event_id,
                                     const std::string& payment_id,
                                     v1::ProviderOutcome outcome,
                                     std::chrono::seconds skew = std::chrono::seconds(0)) {
    v1::ProviderWebhookRequest req;
    req.set_provider(provider_->name());
    req.set_provider_event_id(event_id);
    req.set_payment_id(payment_id);
    req.set_outcome(outcome);
    req.set_timestamp(
        std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + skew));
    req.set_signature(WebhookSignature(kSecret, req));
    return req;
  }

  Status Post(const v1::ProviderWebhookRequest& req, bool* applied = nullptr) {
    v1::ProviderWebhookResponse resp;
    Status s =
        As({}, [&](cppsvc::CallContext& ctx) { return service_->ProviderWebhook(ctx, req, resp); });
    if (applied != nullptr) *applied = resp.applied();
    return s;
  }

  std::shared_ptr<CountingProvider> provider_ = std::make_shared<CountingProvider>();
  std::unique_ptr<cppsvc::testing::TestDatabase> db_;
  std::unique_ptr<PaymentsService> service_;
  std::unique_ptr<v1::PaymentsServiceServer> server_;
  std::unique_ptr<cppsvc::testing::StepHarness> steps_;
};

TEST(HmacTest, KnownVector) {
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(CardForAmountTest, TheCentsChooseTheOutcome) {
  EXPECT_EQ(CardForAmount(1000), kCardSucceeds);
  EXPECT_EQ(CardForAmount(1013), kCardDeclined);
  EXPECT_EQ(CardForAmount(1017), kCardInsufficientFunds);
  EXPECT_EQ(CardForAmount(1019), kCardTransient);
  EXPECT_EQ(CardForAmount(1023), kCardSlow);
  EXPECT_EQ(CardForAmount(113), kCardDeclined);
}

TEST_F(PaymentsServiceTest, TheStepChargesOnceAlsoWhenRedelivered) {
  const std::string order = services::NewUuid();
  ASSERT_TRUE(Step(order, 1200).ok());
  ASSERT_TRUE(Step(order, 1200).ok());
  EXPECT_EQ(provider_->charges, 1);
  EXPECT_EQ(steps_->Emitted(order), "PaymentProcessed");
  auto payment = PaymentOf(order);
  ASSERT_TRUE(payment);
  EXPECT_EQ(payment->status(), v1::PAYMENT_STATUS_SUCCEEDED);
  EXPECT_EQ(payment->amount_cents(), 1200);
  EXPECT_EQ(payment->provider(), "simulated");
  EXPECT_FALSE(payment->provider_payment_id().empty());
}

TEST_F(PaymentsServiceTest, DeclinedAndInsufficientFundsFailTheStep) {
  const std::string declined = services::NewUuid();
  const std::string poor = services::NewUuid();
  ASSERT_TRUE(Step(declined, 1013).ok());
  ASSERT_TRUE(Step(poor, 2517).ok());
  EXPECT_EQ(steps_->Emitted(declined), "PaymentFailed");
  EXPECT_EQ(steps_->Emitted(poor), "PaymentFailed");
  EXPECT_EQ(PaymentOf(declined)->failure_reason(), "card declined");
  EXPECT_EQ(PaymentOf(poor)->failure_reason(), "insufficient funds");
  EXPECT_EQ(PaymentOf(poor)->status(), v1::PAYMENT_STATUS_FAILED);
}

TEST_F(PaymentsServiceTest, ATransientFailureKeepsNothingAndSucceedsWhenRedelivered) {
  const std::string order = services::NewUuid();
  EXPECT_EQ(Step(order, 1019).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(PaymentOf(order));
  EXPECT_EQ(steps_->Emitted(order), "");
  ASSERT_TRUE(Step(order, 1019).ok());
  EXPECT_EQ(steps_->Emitted(order), "PaymentProcessed");
  EXPECT_EQ(provider_->attempts, 2);
  EXPECT_EQ(provider_->charges, 1);
}

TEST_F(PaymentsServiceTest, ASlowCardSucceedsAfterTheDelay) {
  const std::string order = services::NewUuid();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Step(order, 1023).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, kSlow);
  EXPECT_EQ(steps_->Emitted(order), "PaymentProcessed");
}

TEST_F(PaymentsServiceTest, ConcurrentDeliveriesChargeOnce) {
  const std::string order = services::NewUuid();
  Status first, second;
  // Slow: the other one waits on the step's row that this one claimed, then
  // finds the step ran (the unique index on order_id is the second guard:
  // TheDatabaseRefusesASecondPaymentOfAnOrder).
  std::thread a([&] { first = Step(order, 1023); });
  std::this_thread::sleep_for(kSlow / 3);
  std::thread b([&] { second = Step(order, 1023); });
  a.join();
  b.join();
  EXPECT_TRUE(first.ok());
  EXPECT_TRUE(second.ok()) << second.ToString();  // acknowledged: the step ran
  EXPECT_EQ(provider_->attempts, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM payments WHERE order_id = $1", order), 1);
  ASSERT_TRUE(Step(order, 1023).ok());  // redelivered: acknowledged
  EXPECT_EQ(steps_->Emitted(order), "PaymentProcessed");
}

// A step claims its row as succeeded before it runs; a failure rewrites it,
// so that the undo of a failed step only reports it undone.
TEST_F(PaymentsServiceTest, AnUndoOfAFailedStepRefundsNothing) {
  const std::string order = services::NewUuid();
  ASSERT_TRUE(Step(order, 1013).ok());  // declined
  EXPECT_EQ(
      Count("SELECT count(*) FROM cppsvc_saga_steps WHERE id = $1 AND state = 'failed'", order),
      1);
  ASSERT_TRUE(steps_->Undo("process_payment", order).ok());
  EXPECT_EQ(steps_->Emitted(order), "PaymentFailed PaymentRefunded");
  EXPECT_EQ(provider_->refunded, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM refunds WHERE order_id = $1", order), 0);
}

TEST_F(PaymentsServiceTest, TheDatabaseRefusesASecondPaymentOfAnOrder) {
  const std::string order = services::NewUuid();
  ASSERT_TRUE(Step(order, 1000).ok());
  v1::Payment again;
  again.set_order_id(order);
  again.set_user_id(kUser);
  Status s = InTx([&](cppsvc::db::Tx& tx) {
    v1::PaymentRepository(tx).Insert(again);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Charge(order, 1000, "tok_success").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(provider_->attempts, 1);
}

TEST_F(PaymentsServiceTest, TheUndoRefundsOnce) {
  const std::string order = services::NewUuid();
  ASSERT_TRUE(Step(order, 900).ok());
  ASSERT_TRUE(steps_->Undo("process_payment", order).ok());
  ASSERT_TRUE(steps_->Undo("process_payment", order).ok());
  EXPECT_EQ(provider_->refunded, 900);
  EXPECT_EQ(steps_->Emitted(order), "PaymentProcessed PaymentRefunded");
  EXPECT_EQ(PaymentOf(order)->status(), v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_EQ(Count("SELECT count(*) FROM refunds WHERE order_id = $1", order), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM refunds WHERE request_key = 'saga:' || $1::text", order),
            1);
}

TEST_F(PaymentsServiceTest, TheUndoHandlerIsIdempotentAndRefundsNothingUnpaid) {
  const std::string paid = services::NewUuid();
  ASSERT_TRUE(Step(paid, 500).ok());
  cppsvc::sagas::Undo undo{"checkout", "process_payment", paid, "timed_out"};
  for (int i = 0; i < 2; ++i) {
    v1::PaymentRefunded done;
    ASSERT_TRUE(InTx([&](cppsvc::db::Tx& tx) {
                  cppsvc::EventContext ctx("e", "s", 1, "t");
                  ctx.set_tx(&tx);
                  return service_->UndoCheckoutProcessPayment(ctx, undo, done);
                }).ok());
    EXPECT_EQ(done.amount_cents(), 500);  // the first refund, also when asked again
  }
  EXPECT_EQ(provider_->refunded, 500);
  undo.id = services::NewUuid();  // never charged
  v1::PaymentRefunded none;
  ASSERT_TRUE(InTx([&](cppsvc::db::Tx& tx) {
                cppsvc::EventContext ctx("e", "s", 1, "t");
                ctx.set_tx(&tx);
                return service_->UndoCheckoutProcessPayment(ctx, undo, none);
              }).ok());
  EXPECT_EQ(none.amount_cents(), 0);
  EXPECT_EQ(provider_->refunded, 500);
}

TEST_F(PaymentsServiceTest, ChargeUsesTheCardTokenAndEmitsItsOutcome) {
  const std::string good = services::NewUuid();
  const std::string bad = services::NewUuid();
  v1::Payment p;
  ASSERT_TRUE(Charge(good, 1013, "tok_success", &p).ok());  // the token wins over the amount
  EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_SUCCEEDED);
  ASSERT_TRUE(Charge(bad, 1000, "tok_declined", &p).ok());
  EXPECT_EQ(p.status(), v1::PAYMENT_STATUS_FAILED);
  EXPECT_EQ(steps_->Emitted(good), "PaymentProcessed");
  EXPECT_EQ(steps_->Emitted(bad), "PaymentFailed");
  EXPECT_EQ(Charge(services::NewUuid(), 1000, "tok_transient").code(), StatusCode::kUnavailable);
}

TEST_F(PaymentsServiceTest, RefundsPartiallyThenFullyOncePerRequest) {
  v1::Payment p;
  ASSERT_TRUE(Charge(services::NewUuid(), 1000, "", &p).ok());
  v1::Payment after;
  const std::string request = services::NewUuid();
  ASSERT_TRUE(Refund(request, p.id(), 300, &after).ok());
  EXPECT_EQ(after.refunded_cents(), 300);
  EXPECT_EQ(after.status(), v1::PAYMENT_STATUS_SUCCEEDED);
  ASSERT_TRUE(Refund(request, p.id(), 300, &after).ok());  // retried
  EXPECT_EQ(after.refunded_cents(), 300);
  EXPECT_EQ(provider_->refunded, 300);

  EXPECT_EQ(Refund(services::NewUuid(), p.id(), 701).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Refund(services::NewUuid(), p.id(), std::nullopt, &after).ok());  // the rest
  EXPECT_EQ(after.refunded_cents(), 1000);
  EXPECT_EQ(after.status(), v1::PAYMENT_STATUS_REFUNDED);
  EXPECT_EQ(Refund(services::NewUuid(), p.id(), 1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(steps_->Emitted(p.order_id()), "PaymentProcessed PaymentRefunded PaymentRefunded");
  EXPECT_EQ(
      Count("SELECT coalesce(sum(amount_cents), 0) FROM refunds WHERE payment_id = $1", p.id()),
      1000);
  EXPECT_EQ(Refund(services::NewUuid(), services::NewUuid(), 1).code(), StatusCode::kNotFound);
}

TEST_F(PaymentsServiceTest, FailedPaymentsCannotBeRefunded) {
  v1::Payment p;
  ASSERT_TRUE(Charge(services::NewUuid(), 1000, "tok_insufficient_funds", &p).ok());
  EXPECT_EQ(Refund(services::NewUuid(), p.id(), std::nullopt).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(provider_->refunded, 0);
}

TEST_F(PaymentsServiceTest, GetPaymentReadsTheStoredPayment) {
  v1::Payment p;
  ASSERT_TRUE(Charge(services::NewUuid(), 1000, "", &p).ok());
  v1::GetPaymentRequest req;
  req.set_payment_id(p.id());
  v1::GetPaymentResponse resp;
  ASSERT_TRUE(As({"customer"}, [&](cppsvc::CallContext& ctx) {
                return service_->GetPayment(ctx, req, resp);
              }).ok());
  EXPECT_EQ(resp.payment().order_id(), p.order_id());
  req.set_payment_id(services::NewUuid());
  EXPECT_EQ(As({"customer"},
               [&](cppsvc::CallContext& ctx) { return service_->GetPayment(ctx, req, resp); })
                .code(),
            StatusCode::kNotFound);
}

TEST_F(PaymentsServiceTest, AWebhookSettlesAPendingPaymentOnceAndIgnoresReplays) {
  const v1::Payment p = PendingPayment();
  bool applied = false;
  const auto hook = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  ASSERT_TRUE(Post(hook, &applied).ok());
  EXPECT_TRUE(applied);
  ASSERT_TRUE(Post(hook, &applied).ok());  // replayed: the first answer, no effect
  EXPECT_TRUE(applied);
  EXPECT_EQ(steps_->Emitted(p.order_id()), "PaymentProcessed");
  EXPECT_EQ(Count("SELECT count(*) FROM webhook_events WHERE provider_event_id = $1", "evt_1"), 1);

  ASSERT_TRUE(Post(Webhook("evt_2", p.id(), v1::PROVIDER_OUTCOME_FAILED), &applied).ok());  // late
  EXPECT_FALSE(applied);
  EXPECT_EQ(PaymentOf(p.order_id())->status(), v1::PAYMENT_STATUS_SUCCEEDED);
  EXPECT_EQ(steps_->Emitted(p.order_id()), "PaymentProcessed");
}

TEST_F(PaymentsServiceTest, AWebhookNeedsAValidSignature) {
  const v1::Payment p = PendingPayment();
  auto wrong = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  wrong.set_signature(WebhookSignature("wrong", wrong));
  EXPECT_EQ(Post(wrong).code(), StatusCode::kUnauthenticated);
  auto tampered = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_FAILED);
  tampered.set_outcome(v1::PROVIDER_OUTCOME_SUCCEEDED);
  EXPECT_EQ(Post(tampered).code(), StatusCode::kUnauthenticated);
  auto message = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_FAILED);
  message.set_failure_message("something else");
  EXPECT_EQ(Post(message).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Count("SELECT count(*) FROM webhook_events WHERE payment_id = $1", p.id()), 0);
  EXPECT_EQ(PaymentOf(p.order_id())->status(), v1::PAYMENT_STATUS_PENDING);
}

TEST_F(PaymentsServiceTest, AWebhookOutsideTheTimestampToleranceIsRefused) {
  const v1::Payment p = PendingPayment();
  using std::chrono::seconds;
  EXPECT_EQ(Post(Webhook("evt_old", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED, seconds(-301))).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Post(Webhook("evt_new", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED, seconds(301))).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(PaymentOf(p.order_id())->status(), v1::PAYMENT_STATUS_PENDING);
  bool applied = false;
  ASSERT_TRUE(
      Post(Webhook("evt_ok", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED, seconds(-290)), &applied)
          .ok());
  EXPECT_TRUE(applied);
}

TEST_F(PaymentsServiceTest, AWebhookForAnUnknownOrForeignPaymentChangesNothing) {
  const v1::Payment p = PendingPayment();
  EXPECT_EQ(Post(Webhook("evt_1", services::NewUuid(), v1::PROVIDER_OUTCOME_SUCCEEDED)).code(),
            StatusCode::kNotFound);
  auto other = Webhook("evt_1", p.id(), v1::PROVIDER_OUTCOME_SUCCEEDED);
  other.set_provider("other_pay");
  other.set_signature(WebhookSignature(kSecret, other));
  EXPECT_EQ(Post(other).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(PaymentOf(p.order_id())->status(), v1::PAYMENT_STATUS_PENDING);
}

}  // namespace
}  // namespace payments
