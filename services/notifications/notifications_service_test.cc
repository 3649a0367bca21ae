// The notifications service's handlers against a real PostgreSQL: every call
// and event runs in a transaction that commits only when the handler returns
// OK, as in the generated server and consumers.
#include "notifications/notifications_service.h"

#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "commerce/notifications/v1/notifications.cppsvc.migrations.h"
#include "commerce/notifications/v1/notifications.cppsvc.repo.h"
#include "cppsvc/db/transaction.h"
#include "cppsvc/testing/test_database.h"

namespace notifications {
namespace {

using cppsvc::Status;
using cppsvc::StatusCode;
using std::chrono::seconds;

constexpr char kAda[] = "00000000-0000-4000-8000-00000000000a";

class NotificationsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = cppsvc::testing::TestDatabase::Create(
        commerce::notifications::v1::NotificationsMigrations(),
        &why);
    ASSERT_NE(db_, nullptr) << "no test database: " << why;
    service_ = std::make_unique<NotificationsService>(email_, sms_);
  }

  template <typename Request, typename Response>
  Status Call(Status (NotificationsService::*handler)(cppsvc::CallContext&,
                                                      const Request&,
                                                      Response&),
              const Request& request,
              Response& response) {
    const auto deadline = cppsvc::Clock::now() + seconds(10);
    cppsvc::CallContext ctx(cppsvc::Caller{kAda, {"customer"}, ""}, deadline, "test", "");
    return cppsvc::db::RunInTransaction(*db_->pool(), deadline, [&](cppsvc::db::Tx& tx) {
      ctx.set_tx(&tx);
      return (service_.get()->*handler)(ctx, request, response);
    });
  }

  // Delivers an event as the generated consumer does (the inbox aside).
  template <typename Event>
  Status Handle(Status (NotificationsService::*handler)(cppsvc::EventContext&, const Event&),
                const Event& event,
                const std::string& event_id) {
    cppsvc::EventContext ctx(event_id, "subject", 1, "");
    return cppsvc::db::RunInTransaction(*db_->pool(),
                                        cppsvc::Clock::now() + seconds(10),
                                        [&](cppsvc::db::Tx& tx) {
                                          ctx.set_tx(&tx);
                                          return (service_.get()->*handler)(ctx, event);
                                        });
  }

  pqxx::result Query(const std::string& sql) {
    auto lease = db_->pool()->Acquire(cppsvc::Clock::now() + seconds(5));
    pqxx::nontransaction q(lease.connection());
    return q.exec(sql);
  }

  void Registered(const std::string& user_id, const std::string& email, const std::string& name) {
    commerce::auth::v1::UserRegistered event;
    event.set_user_id(user_id);
    event.set_email(email);
    event.set_display_name(name);
    ASSERT_TRUE(
        Handle(&NotificationsService::OnUserRegistered, event, "evt-welcome-" + user_id).ok());
  }

  static commerce::orders::v1::OrderConfirmed Confirmed(const std::string& order_id) {
    commerce::orders::v1::OrderConfirmed event;
    event.set_order_id(order_id);
    event.set_user_id(kAda);
    event.set_total_cents(12345);
    return event;
  }

  std::vector<v1::Notification> Inbox(std::optional<v1::NotificationKind> kind = std::nullopt) {
    v1::ListNotificationsRequest request;
    request.set_user_id(kAda);
    if (kind) request.set_kind(*kind);
    v1::ListNotificationsResponse response;
    Status s = Call(&NotificationsService::ListNotifications, request, response);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return {response.notifications().begin(), response.notifications().end()};
  }

  // "channel status detail" of each delivery of the event key, by channel.
  std::vector<std::string> Deliveries(const std::string& event_key) {
    std::vector<std::string> out;
    for (const auto& row : Query("SELECT channel, status, address, detail FROM deliveries WHERE "
                                 "event_key = '" +
                                 event_key + "' ORDER BY channel")) {
      std::string detail = row[3].as<std::string>();
      if (detail.rfind("sim-", 0) == 0) detail = "sim-id";
      out.push_back(row[0].as<std::string>() + " " + row[1].as<std::string>() + " " +
                    row[2].as<std::string>() + " " + detail);
    }
    return out;
  }

  Status UpdatePreferences(const v1::UpdatePreferencesRequest& request) {
    v1::UpdatePreferencesResponse response;
    return Call(&NotificationsService::UpdatePreferences, request, response);
  }

  std::shared_ptr<SimulatedSender> email_ = std::make_shared<SimulatedSender>();
  std::shared_ptr<SimulatedSender> sms_ = std::make_shared<SimulatedSender>();
  std::unique_ptr<cppsvc::testing::TestDatabase> db_;
  std::unique_ptr<NotificationsService> service_;
};

// Channels and statuses as stored: email 1, sms 2; sent 2, failed 3, skipped 4.
TEST_F(NotificationsServiceTest, ARegistrationGivesAWelcomeInTheInboxAndByEmail) {
  Registered(kAda, "ada@example.com", "Ada");
  std::vector<v1::Notification> inbox = Inbox();
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].kind(), v1::NOTIFICATION_KIND_WELCOME);
  EXPECT_EQ(inbox[0].title(), "Welcome, Ada!");
  EXPECT_EQ(inbox[0].source_event_id(), "evt-welcome-" + std::string(kAda));
  EXPECT_TRUE(inbox[0].emailed());

  ASSERT_EQ(email_->sent().size(), 1u);
  const OutgoingMessage mail = email_->sent()[0];
  EXPECT_EQ(mail.to, "ada@example.com");
  EXPECT_EQ(mail.subject, "Welcome, Ada!");
  EXPECT_EQ(mail.body, "Hello Ada,\n\nYour account is ready. Happy shopping!\n\nThe Shop team\n");
  EXPECT_TRUE(sms_->sent().empty());
  EXPECT_EQ(Deliveries("welcome:" + std::string(kAda)),
            (std::vector<std::string>{"1 2 ada@example.com sim-id", "2 4  sms is turned off"}));
}

TEST_F(NotificationsServiceTest, ARedeliveredEventOrARepeatedFactNotifiesOnce) {
  Registered(kAda, "ada@example.com", "Ada");
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-1"), "evt-1").ok());
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-1"), "evt-1").ok());
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-1"), "evt-2").ok());
  EXPECT_EQ(Inbox(v1::NOTIFICATION_KIND_ORDER_CONFIRMED).size(), 1u);
  EXPECT_EQ(email_->sent().size(), 2u);  // the welcome and the confirmation
  EXPECT_EQ(Deliveries("order_confirmed:o-1").size(), 2u);
  EXPECT_EQ(email_->sent()[1].body,
            "Hello Ada,\n\nYour order o-1 of 123.45 is paid and confirmed.\n\nThe Shop team\n");
}

// Two replicas handling the same fact at once: the second waits on the
// unique index and fails once the first commits, having sent nothing.
TEST_F(NotificationsServiceTest, ConcurrentHandlersOfOneFactDeliverOnce) {
  Registered(kAda, "ada@example.com", "Ada");
  std::promise<void> handled, release;
  auto first = std::async(std::launch::async, [&] {
    cppsvc::EventContext ctx("evt-a", "subject", 1, "");
    return cppsvc::db::RunInTransaction(*db_->pool(),
                                        cppsvc::Clock::now() + seconds(10),
                                        [&](cppsvc::db::Tx& tx) {
                                          ctx.set_tx(&tx);
                                          Status s =
                                              service_->OnOrderConfirmed(ctx, Confirmed("o-1"));
                                          handled.set_value();
                                          release.get_future().wait();
                                          return s;
                                        });
  });
  handled.get_future().wait();
  auto second = std::async(std::launch::async, [&] {
    return Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-1"), "evt-b");
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  release.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(second.get().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(email_->sent().size(), 2u);  // the welcome and one confirmation
  EXPECT_EQ(Inbox(v1::NOTIFICATION_KIND_ORDER_CONFIRMED).size(), 1u);
}

TEST_F(NotificationsServiceTest, TheDatabaseRefusesASecondDeliveryForOneEventAndChannel) {
  auto insert = [&](const std::string& id) {
    return cppsvc::db::RunInTransaction(*db_->pool(),
                                        cppsvc::Clock::now() + seconds(5),
                                        [&](cppsvc::db::Tx& tx) {
                                          v1::Delivery d;
                                          d.set_id(id);
                                          d.set_event_key("order_confirmed:o-1");
                                          d.set_channel(v1::DELIVERY_CHANNEL_EMAIL);
                                          v1::DeliveryRepository(tx).Insert(d);
                                          return Status::Ok();
                                        });
  };
  ASSERT_TRUE(insert("00000000-0000-4000-8000-000000000001").ok());
  EXPECT_EQ(insert("00000000-0000-4000-8000-000000000002").code(), StatusCode::kAlreadyExists);
}

TEST_F(NotificationsServiceTest, TurnedOffOrderUpdatesAreRecordedAsSkippedAndNotSent) {
  Registered(kAda, "ada@example.com", "Ada");
  v1::UpdatePreferencesRequest request;
  request.set_user_id(kAda);
  request.set_order_updates(false);
  ASSERT_TRUE(UpdatePreferences(request).ok());
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-1"), "evt-1").ok());
  EXPECT_TRUE(Inbox(v1::NOTIFICATION_KIND_ORDER_CONFIRMED).empty());
  EXPECT_EQ(email_->sent().size(), 1u);  // the welcome only
  EXPECT_EQ(Deliveries("order_confirmed:o-1"),
            (std::vector<std::string>{"1 4 ada@example.com order updates are turned off",
                                      "2 4  order updates are turned off"}));
}

TEST_F(NotificationsServiceTest, EmailOverrideAndSmsFollowThePreferences) {
  Registered(kAda, "ada@example.com", "Ada");
  v1::UpdatePreferencesRequest request;
  request.set_user_id(kAda);
  request.set_email_override("ada@work.example.com");
  request.set_sms_enabled(true);
  request.set_phone("+4915112345678");
  ASSERT_TRUE(UpdatePreferences(request).ok());

  commerce::orders::v1::OrderCancelled event;
  event.set_order_id("o-2");
  event.set_user_id(kAda);
  event.set_reason(commerce::orders::v1::CANCELLATION_REASON_PAYMENT_FAILED);
  event.set_detail("card declined");
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderCancelled, event, "evt-2").ok());
  std::vector<v1::Notification> inbox = Inbox(v1::NOTIFICATION_KIND_ORDER_CANCELLED);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].body(),
            "Your order o-2 was cancelled because the payment failed. (card declined)");
  ASSERT_EQ(email_->sent().size(), 2u);
  EXPECT_EQ(email_->sent()[1].to, "ada@work.example.com");
  ASSERT_EQ(sms_->sent().size(), 1u);
  EXPECT_EQ(sms_->sent()[0].to, "+4915112345678");
  EXPECT_EQ(sms_->sent()[0].body, "Order o-2 cancelled: the payment failed.");
  EXPECT_EQ(
      Deliveries("order_cancelled:o-2"),
      (std::vector<std::string>{"1 2 ada@work.example.com sim-id", "2 2 +4915112345678 sim-id"}));
}

TEST_F(NotificationsServiceTest, AFailedSendIsRecordedWithItsReason) {
  Registered(kAda, "bounce@example.com", "Ada");
  v1::UpdatePreferencesRequest request;
  request.set_user_id(kAda);
  request.set_sms_enabled(true);
  request.set_phone("+4915112345000");
  ASSERT_TRUE(UpdatePreferences(request).ok());
  commerce::payments::v1::PaymentFailed event;
  event.set_order_id("o-3");
  event.set_payment_id("p-3");
  event.set_user_id(kAda);
  event.set_reason("card declined");
  ASSERT_TRUE(Handle(&NotificationsService::OnPaymentFailed, event, "evt-3").ok());
  std::vector<v1::Notification> inbox = Inbox(v1::NOTIFICATION_KIND_PAYMENT_FAILED);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_FALSE(inbox[0].emailed());
  EXPECT_EQ(inbox[0].body(), "The payment for your order o-3 failed: card declined.");
  EXPECT_EQ(Deliveries("payment_failed:p-3"),
            (std::vector<std::string>{"1 3 bounce@example.com mailbox unavailable",
                                      "2 3 +4915112345000 unreachable number"}));
}

TEST_F(NotificationsServiceTest, AnUnknownUserGetsAnInboxEntryAndNoMessages) {
  ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed("o-4"), "evt-4").ok());
  std::vector<v1::Notification> inbox = Inbox();
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(Deliveries("order_confirmed:o-4"),
            (std::vector<std::string>{"1 4  no email address", "2 4  sms is turned off"}));
  EXPECT_EQ(inbox[0].body(), "Your order o-4 of 123.45 is paid and confirmed.");
}

TEST_F(NotificationsServiceTest, TheInboxListsNewestFirstOnePageAtATime) {
  Registered(kAda, "ada@example.com", "Ada");
  for (int i = 1; i <= 4; ++i) {
    const std::string id = "o-" + std::to_string(i);
    ASSERT_TRUE(Handle(&NotificationsService::OnOrderConfirmed, Confirmed(id), "evt-" + id).ok());
  }
  v1::ListNotificationsRequest request;
  request.set_user_id(kAda);
  request.set_page_size(2);
  std::vector<std::string> bodies;
  for (int page = 0; page < 5; ++page) {
    v1::ListNotificationsResponse response;
    ASSERT_TRUE(Call(&NotificationsService::ListNotifications, request, response).ok());
    for (const auto& n : response.notifications()) bodies.push_back(n.body().substr(0, 16));
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(bodies,
            (std::vector<std::string>{"Your order o-4 o",
                                      "Your order o-3 o",
                                      "Your order o-2 o",
                                      "Your order o-1 o",
                                      "Your account is "}));
  EXPECT_EQ(Inbox(v1::NOTIFICATION_KIND_WELCOME).size(), 1u);

  request.set_page_token("garbage");
  v1::ListNotificationsResponse response;
  EXPECT_EQ(Call(&NotificationsService::ListNotifications, request, response).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(NotificationsServiceTest, PreferencesStartAtTheDefaultsAndKeepWhatIsNotChanged) {
  v1::GetPreferencesRequest get;
  get.set_user_id(kAda);
  v1::GetPreferencesResponse before;
  ASSERT_TRUE(Call(&NotificationsService::GetPreferences, get, before).ok());
  EXPECT_TRUE(before.preferences().email_enabled());
  EXPECT_TRUE(before.preferences().order_updates());
  EXPECT_FALSE(before.preferences().sms_enabled());

  v1::UpdatePreferencesRequest request;
  request.set_user_id(kAda);
  request.set_payment_alerts(false);
  ASSERT_TRUE(UpdatePreferences(request).ok());
  request.clear_payment_alerts();
  request.set_email_enabled(false);
  ASSERT_TRUE(UpdatePreferences(request).ok());
  v1::GetPreferencesResponse after;
  ASSERT_TRUE(Call(&NotificationsService::GetPreferences, get, after).ok());
  EXPECT_FALSE(after.preferences().payment_alerts());
  EXPECT_FALSE(after.preferences().email_enabled());
  EXPECT_TRUE(after.preferences().order_updates());
}

TEST(TemplatesTest, ValuesAreNeitherEscapedNorReadAsTemplates) {
  CheckTemplates();
  RenderedMessage m = Render(v1::NOTIFICATION_KIND_PAYMENT_FAILED,
                             {{"name", "<Ada & Bob>"}, {"order_id", "{{name}}"}, {"reason", "x"}});
  EXPECT_EQ(m.text, "The payment for your order {{name}} failed: x.");
  EXPECT_EQ(m.email_body.substr(0, 18), "Hello <Ada & Bob>,");
  EXPECT_THROW(Render(v1::NOTIFICATION_KIND_UNSPECIFIED, {}), std::invalid_argument);
}

}  // namespace
}  // namespace notifications
