#include "notifications/notifications_service.h"

#include <cstdio>

#include "common/util.h"

namespace notifications {

using cppsvc::Status;

namespace {

std::string Money(int64_t cents) {
  char text[32];
  std::snprintf(text,
                sizeof text,
                "%lld.%02lld",
                static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return text;
}

std::string CancellationText(commerce::orders::v1::CancellationReason reason) {
  switch (reason) {
    case commerce::orders::v1::CANCELLATION_REASON_OUT_OF_STOCK:
      return "some items are out of stock";
    case commerce::orders::v1::CANCELLATION_REASON_PAYMENT_FAILED:
      return "the payment failed";
    case commerce::orders::v1::CANCELLATION_REASON_TIMEOUT:
      return "it could not be completed in time";
    case commerce::orders::v1::CANCELLATION_REASON_CUSTOMER_REQUEST:
      return "you asked for it";
    default:
      return "of a problem on our side";
  }
}

}  // namespace

bool RecordingMailer::Send(const std::string& to,
                           const std::string& subject,
                           const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  sent_.push_back({to, subject, body});
  return true;
}

std::vector<RecordingMailer::Mail> RecordingMailer::sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_;
}

NotificationsService::NotificationsService()
    : NotificationsService(std::make_shared<InMemoryNotificationStore>(),
                           std::make_shared<NullMailer>()) {}

NotificationsService::NotificationsService(std::shared_ptr<NotificationStore> store,
                                           std::shared_ptr<Mailer> mailer)
    : store_(std::move(store)), mailer_(std::move(mailer)) {}

Preference NotificationsService::Defaults(const std::string& user_id) {
  Preference p;
  p.set_user_id(user_id);
  p.set_email_enabled(true);
  p.set_order_updates(true);
  p.set_payment_alerts(true);
  return p;
}

Status NotificationsService::ListNotifications(cppsvc::CallContext&,
                                               const v1::ListNotificationsRequest& request,
                                               v1::ListNotificationsResponse& response) {
  // Ownership (user_id) is checked by the runtime on the request.
  int64_t cursor = 0;
  if (Status s = services::ParsePageToken(request.page_token(), cursor); !s.ok()) return s;
  std::optional<NotificationKind> kind;
  if (request.has_kind()) kind = request.kind();
  int64_t next = 0;
  for (Notification& n : store_->List(request.user_id(),
                                      kind,
                                      cursor,
                                      services::PageSize(request.page_size(), 20),
                                      next)) {
    *response.add_notifications() = std::move(n);
  }
  response.set_next_page_token(services::PageToken(next));
  return Status::Ok();
}

Status NotificationsService::GetPreferences(cppsvc::CallContext&,
                                            const v1::GetPreferencesRequest& request,
                                            v1::GetPreferencesResponse& response) {
  *response.mutable_preferences() =
      store_->GetPreferences(request.user_id()).value_or(Defaults(request.user_id()));
  return Status::Ok();
}

Status NotificationsService::UpdatePreferences(cppsvc::CallContext&,
                                               const v1::UpdatePreferencesRequest& request,
                                               v1::UpdatePreferencesResponse& response) {
  *response.mutable_preferences() =
      store_->UpdatePreferences(request.user_id(), Defaults(request.user_id()), [&](Preference& p) {
        if (request.has_email_enabled()) p.set_email_enabled(request.email_enabled());
        if (request.has_order_updates()) p.set_order_updates(request.order_updates());
        if (request.has_payment_alerts()) p.set_payment_alerts(request.payment_alerts());
        if (request.has_email_override()) p.set_email_override(request.email_override());
        *p.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
      });
  return Status::Ok();
}

void NotificationsService::Notify(const cppsvc::EventContext& ctx,
                                  const std::string& fallback_source,
                                  const std::string& user_id,
                                  NotificationKind kind,
                                  const std::string& title,
                                  const std::string& body) {
  // One notification per event: the event's id, or (for events without one)
  // what identifies it in its stream.
  const std::string source = ctx.event_id().empty() ? fallback_source : ctx.event_id();
  if (store_->HasSource(source)) return;
  Preference prefs = store_->GetPreferences(user_id).value_or(Defaults(user_id));
  const bool order_kind = kind == v1::NOTIFICATION_KIND_ORDER_CONFIRMED ||
                          kind == v1::NOTIFICATION_KIND_ORDER_CANCELLED;
  if (order_kind && !prefs.order_updates()) return;
  if (kind == v1::NOTIFICATION_KIND_PAYMENT_FAILED && !prefs.payment_alerts()) return;

  Notification n;
  n.set_id(services::NewUuid());
  n.set_user_id(user_id);
  n.set_kind(kind);
  n.set_title(title);
  n.set_body(body);
  n.set_source_event_id(source);
  const std::string& address =
      prefs.email_override().empty() ? prefs.email() : prefs.email_override();
  n.set_emailed(prefs.email_enabled() && !address.empty() && mailer_->Send(address, title, body));
  *n.mutable_created_at() = services::ToTimestamp(cppsvc::Clock::now());
  store_->Add(n);
}

Status NotificationsService::OnUserRegistered(cppsvc::EventContext& ctx,
                                              const commerce::auth::v1::UserRegistered& event) {
  store_->UpdatePreferences(event.user_id(), Defaults(event.user_id()), [&](Preference& p) {
    p.set_email(event.email());
    *p.mutable_updated_at() = services::ToTimestamp(cppsvc::Clock::now());
  });
  Notify(ctx,
         "welcome:" + event.user_id(),
         event.user_id(),
         v1::NOTIFICATION_KIND_WELCOME,
         "Welcome, " + event.display_name() + "!",
         "Your account is ready. Happy shopping!");
  return Status::Ok();
}

Status NotificationsService::OnOrderConfirmed(cppsvc::EventContext& ctx,
                                              const commerce::orders::v1::OrderConfirmed& event) {
  Notify(ctx,
         "order_confirmed:" + event.order_id(),
         event.user_id(),
         v1::NOTIFICATION_KIND_ORDER_CONFIRMED,
         "Order confirmed",
         "Your order " + event.order_id() + " of " + Money(event.total_cents()) +
             " is paid and confirmed.");
  return Status::Ok();
}

Status NotificationsService::OnOrderCancelled(cppsvc::EventContext& ctx,
                                              const commerce::orders::v1::OrderCancelled& event) {
  std::string body = "Your order " + event.order_id() + " was cancelled because " +
                     CancellationText(event.reason()) + ".";
  if (!event.detail().empty()) body += " (" + event.detail() + ")";
  Notify(ctx,
         "order_cancelled:" + event.order_id(),
         event.user_id(),
         v1::NOTIFICATION_KIND_ORDER_CANCELLED,
         "Order cancelled",
         body);
  return Status::Ok();
}

Status NotificationsService::OnPaymentFailed(cppsvc::EventContext& ctx,
                                             const commerce::payments::v1::PaymentFailed& event) {
  Notify(ctx,
         "payment_failed:" + event.payment_id(),
         event.user_id(),
         v1::NOTIFICATION_KIND_PAYMENT_FAILED,
         "Payment failed",
         "The payment for your order " + event.order_id() + " failed: " + event.reason() + ".");
  return Status::Ok();
}

}  // namespace notifications
