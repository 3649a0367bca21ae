#include "notifications/notifications_service.h"

#include <gtest/gtest.h>

#include "common/util.h"

namespace notifications {
namespace {

using cppsvc::StatusCode;

constexpr char kAlice[] = "7d0b4c2e-0000-4000-8000-00000000a11c";
constexpr char kBob[] = "7d0b4c2e-0000-4000-8000-000000000b0b";

cppsvc::CallContext Ctx(const std::string& user) {
  return cppsvc::CallContext(cppsvc::Caller{user, {"customer"}, "jti"},
                             cppsvc::Clock::now() + std::chrono::seconds(5),
                             "m",
                             "t");
}

cppsvc::EventContext Event(const std::string& id) {
  return cppsvc::EventContext(id, "subject", 1, "t");
}

class NotificationsServiceTest : public ::testing::Test {
 protected:
  NotificationsServiceTest()
      : service(
            std::make_unique<NotificationsService>(std::make_shared<InMemoryNotificationStore>(),
                                                   mailer)) {}

  void Register(const std::string& user, const std::string& email) {
    commerce::auth::v1::UserRegistered event;
    event.set_user_id(user);
    event.set_email(email);
    event.set_display_name("Alice");
    auto ectx = Event("reg-" + user);
    ASSERT_TRUE(service->OnUserRegistered(ectx, event).ok());
  }

  void Confirm(const std::string& user, const std::string& event_id) {
    commerce::orders::v1::OrderConfirmed event;
    event.set_order_id(services::NewUuid());
    event.set_user_id(user);
    event.set_total_cents(1234);
    auto ectx = Event(event_id);
    ASSERT_TRUE(service->OnOrderConfirmed(ectx, event).ok());
  }

  void PaymentFailed(const std::string& user, const std::string& event_id) {
    commerce::payments::v1::PaymentFailed event;
    event.set_order_id(services::NewUuid());
    event.set_user_id(user);
    event.set_reason("card declined");
    auto ectx = Event(event_id);
    ASSERT_TRUE(service->OnPaymentFailed(ectx, event).ok());
  }

  std::vector<Notification> Inbox(const std::string& user) {
    auto ctx = Ctx(user);
    v1::ListNotificationsRequest req;
    req.set_user_id(user);
    req.set_page_size(100);
    v1::ListNotificationsResponse resp;
    EXPECT_TRUE(service->ListNotifications(ctx, req, resp).ok());
    return {resp.notifications().begin(), resp.notifications().end()};
  }

  Preference Update(const std::string& user,
                    const std::function<void(v1::UpdatePreferencesRequest&)>& fill) {
    auto ctx = Ctx(user);
    v1::UpdatePreferencesRequest req;
    req.set_user_id(user);
    fill(req);
    v1::UpdatePreferencesResponse resp;
    EXPECT_TRUE(service->UpdatePreferences(ctx, req, resp).ok());
    return resp.preferences();
  }

  std::shared_ptr<RecordingMailer> mailer = std::make_shared<RecordingMailer>();
  std::unique_ptr<v1::NotificationsServiceBase> service;
};

TEST_F(NotificationsServiceTest, PreferencesDefaultAndChangeOnlyWhatIsSet) {
  auto ctx = Ctx(kAlice);
  v1::GetPreferencesRequest req;
  req.set_user_id(kAlice);
  v1::GetPreferencesResponse resp;
  ASSERT_TRUE(service->GetPreferences(ctx, req, resp).ok());
  EXPECT_EQ(resp.preferences().user_id(), kAlice);
  EXPECT_TRUE(resp.preferences().email_enabled());
  EXPECT_TRUE(resp.preferences().order_updates());
  EXPECT_TRUE(resp.preferences().payment_alerts());

  Preference p = Update(kAlice, [](auto& r) { r.set_payment_alerts(false); });
  EXPECT_FALSE(p.payment_alerts());
  EXPECT_TRUE(p.email_enabled());
  p = Update(kAlice, [](auto& r) { r.set_email_override("alice@work.example"); });
  EXPECT_FALSE(p.payment_alerts());  // kept
  EXPECT_EQ(p.email_override(), "alice@work.example");
}

TEST_F(NotificationsServiceTest, WelcomeOncePerEventAndEmailed) {
  Register(kAlice, "alice@example.com");
  Register(kAlice, "alice@example.com");  // redelivered, same event id
  auto inbox = Inbox(kAlice);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0].kind(), v1::NOTIFICATION_KIND_WELCOME);
  EXPECT_EQ(inbox[0].title(), "Welcome, Alice!");
  EXPECT_TRUE(inbox[0].emailed());
  ASSERT_EQ(mailer->sent().size(), 1u);
  EXPECT_EQ(mailer->sent()[0].to, "alice@example.com");
  EXPECT_TRUE(Inbox(kBob).empty());
}

TEST_F(NotificationsServiceTest, PreferencesGateKindsAndEmail) {
  Register(kAlice, "alice@example.com");
  Update(kAlice, [](auto& r) { r.set_order_updates(false); });
  Confirm(kAlice, "e1");
  EXPECT_EQ(Inbox(kAlice).size(), 1u);  // the welcome only

  Update(kAlice, [](auto& r) {
    r.set_order_updates(true);
    r.set_payment_alerts(false);
  });
  PaymentFailed(kAlice, "e2");
  EXPECT_EQ(Inbox(kAlice).size(), 1u);

  Update(kAlice, [](auto& r) { r.set_email_override("alice@work.example"); });
  Confirm(kAlice, "e3");
  ASSERT_EQ(mailer->sent().size(), 2u);
  EXPECT_EQ(mailer->sent()[1].to, "alice@work.example");
  EXPECT_NE(mailer->sent()[1].body.find("12.34"), std::string::npos);

  Update(kAlice, [](auto& r) { r.set_email_enabled(false); });
  Confirm(kAlice, "e4");
  auto inbox = Inbox(kAlice);
  ASSERT_EQ(inbox.size(), 3u);
  EXPECT_EQ(inbox[0].kind(), v1::NOTIFICATION_KIND_ORDER_CONFIRMED);  // newest first
  EXPECT_FALSE(inbox[0].emailed());
  EXPECT_EQ(mailer->sent().size(), 2u);
}

TEST_F(NotificationsServiceTest, CancellationsAndPaymentFailuresLandInTheInbox) {
  commerce::orders::v1::OrderCancelled cancelled;
  cancelled.set_order_id(services::NewUuid());
  cancelled.set_user_id(kBob);
  cancelled.set_reason(commerce::orders::v1::CANCELLATION_REASON_OUT_OF_STOCK);
  auto ectx = Event("c1");
  ASSERT_TRUE(service->OnOrderCancelled(ectx, cancelled).ok());
  PaymentFailed(kBob, "p1");
  auto inbox = Inbox(kBob);
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].kind(), v1::NOTIFICATION_KIND_PAYMENT_FAILED);
  EXPECT_NE(inbox[0].body().find("card declined"), std::string::npos);
  EXPECT_EQ(inbox[1].kind(), v1::NOTIFICATION_KIND_ORDER_CANCELLED);
  EXPECT_NE(inbox[1].body().find("out of stock"), std::string::npos);
  EXPECT_FALSE(inbox[1].emailed());  // no address known for Bob
}

TEST_F(NotificationsServiceTest, ListPagesNewestFirstAndFiltersByKind) {
  Register(kAlice, "alice@example.com");
  for (int i = 0; i < 4; ++i) Confirm(kAlice, "c" + std::to_string(i));
  auto ctx = Ctx(kAlice);
  v1::ListNotificationsRequest req;
  req.set_user_id(kAlice);
  req.set_page_size(2);
  std::vector<std::string> titles;
  for (int page = 0; page < 10; ++page) {
    v1::ListNotificationsResponse resp;
    ASSERT_TRUE(service->ListNotifications(ctx, req, resp).ok());
    for (const auto& n : resp.notifications()) titles.push_back(n.title());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  ASSERT_EQ(titles.size(), 5u);
  EXPECT_EQ(titles.back(), "Welcome, Alice!");

  req.clear_page_token();
  req.set_kind(v1::NOTIFICATION_KIND_WELCOME);
  v1::ListNotificationsResponse welcome;
  ASSERT_TRUE(service->ListNotifications(ctx, req, welcome).ok());
  EXPECT_EQ(welcome.notifications_size(), 1);
  EXPECT_TRUE(welcome.next_page_token().empty());

  req.set_page_token("x1");
  EXPECT_EQ(service->ListNotifications(ctx, req, welcome).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace notifications
