#include "notifications/notifications_service.h"

#include <cstdio>
#include <vector>

#include "commerce/notifications/v1/notifications.cppsvc.repo.h"
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

// Empty when the preferences allow notifications of this kind, else why not.
std::string KindTurnedOff(const Preference& p, NotificationKind kind) {
  switch (kind) {
    case v1::NOTIFICATION_KIND_ORDER_CONFIRMED:
    case v1::NOTIFICATION_KIND_ORDER_CANCELLED:
      return p.order_updates() ? "" : "order updates are turned off";
    case v1::NOTIFICATION_KIND_PAYMENT_FAILED:
      return p.payment_alerts() ? "" : "payment alerts are turned off";
    default:
      return "";
  }
}

std::string ChannelKey(DeliveryChannel channel) {
  return channel == v1::DELIVERY_CHANNEL_EMAIL ? "email" : "sms";
}

}  // namespace

NotificationsService::NotificationsService()
    : NotificationsService(std::make_shared<SimulatedSender>(true),
                           std::make_shared<SimulatedSender>(true)) {}

NotificationsService::NotificationsService(std::shared_ptr<Sender> email,
                                           std::shared_ptr<Sender> sms)
    : email_(std::move(email)), sms_(std::move(sms)) {
  CheckTemplates();
}

Status NotificationsService::ListNotifications(cppsvc::CallContext& ctx,
                                               const v1::ListNotificationsRequest& request,
                                               v1::ListNotificationsResponse& response) {
  // Ownership (user_id) is checked by the runtime on the request.
  std::optional<NotificationKind> kind;
  if (request.has_kind()) kind = request.kind();
  InboxPage page = ListInbox(ctx.tx(),
                             request.user_id(),
                             kind,
                             request.page_token(),
                             services::PageSize(request.page_size(), 20));
  for (Notification& n : page.notifications) *response.add_notifications() = std::move(n);
  response.set_next_page_token(page.next_page_token);
  return Status::Ok();
}

Status NotificationsService::GetPreferences(cppsvc::CallContext& ctx,
                                            const v1::GetPreferencesRequest& request,
                                            v1::GetPreferencesResponse& response) {
  *response.mutable_preferences() = LoadPreferences(ctx.tx(), request.user_id());
  return Status::Ok();
}

Status NotificationsService::UpdatePreferences(cppsvc::CallContext& ctx,
                                               const v1::UpdatePreferencesRequest& request,
                                               v1::UpdatePreferencesResponse& response) {
  Preference p = LockPreferences(ctx.tx(), request.user_id());
  if (request.has_email_enabled()) p.set_email_enabled(request.email_enabled());
  if (request.has_order_updates()) p.set_order_updates(request.order_updates());
  if (request.has_payment_alerts()) p.set_payment_alerts(request.payment_alerts());
  if (request.has_email_override()) p.set_email_override(request.email_override());
  if (request.has_sms_enabled()) p.set_sms_enabled(request.sms_enabled());
  if (request.has_phone()) p.set_phone(request.phone());
  v1::PreferenceRepository(ctx.tx()).Update(p);
  *response.mutable_preferences() = p;
  return Status::Ok();
}

bool NotificationsService::Deliver(const cppsvc::EventContext& ctx,
                                   const Notification& notification,
                                   const Draft& draft,
                                   const Route& route,
                                   const RenderedMessage& message) {
  v1::Delivery d;
  d.set_notification_id(notification.id());
  d.set_user_id(draft.user_id);
  d.set_event_key(draft.event_key);
  d.set_source_event_id(ctx.event_id());
  d.set_channel(route.channel);
  d.set_address(route.address);
  d.set_status(route.skip.empty() ? v1::DELIVERY_STATUS_PENDING : v1::DELIVERY_STATUS_SKIPPED);
  d.set_detail(route.skip);
  // First the row: a concurrent handler of the same event key waits on its
  // unique index here and fails once this commits, before sending anything.
  v1::DeliveryRepository deliveries(ctx.tx());
  deliveries.Insert(d);
  if (!route.skip.empty()) return false;

  const bool email = route.channel == v1::DELIVERY_CHANNEL_EMAIL;
  SendResult result = (email ? email_ : sms_)
                          ->Send({route.channel,
                                  route.address,
                                  email ? message.title : "",
                                  email ? message.email_body : message.sms,
                                  draft.event_key + "/" + ChannelKey(route.channel)});
  d.set_status(result.sent ? v1::DELIVERY_STATUS_SENT : v1::DELIVERY_STATUS_FAILED);
  d.set_detail(result.detail);
  deliveries.Update(d);
  return result.sent;
}

std::vector<NotificationsService::Route> NotificationsService::Routes(const Preference& prefs,
                                                                      const std::string& off) {
  auto skip = [&](bool enabled, const std::string& address, const char* channel, const char* what) {
    if (!off.empty()) return off;
    if (!enabled) return std::string(channel) + " is turned off";
    return address.empty() ? std::string("no ") + what : std::string();
  };
  const std::string& email =
      prefs.email_override().empty() ? prefs.email() : prefs.email_override();
  return {{v1::DELIVERY_CHANNEL_EMAIL,
           email,
           skip(prefs.email_enabled(), email, "email", "email address")},
          {v1::DELIVERY_CHANNEL_SMS,
           prefs.phone(),
           skip(prefs.sms_enabled(), prefs.phone(), "sms", "phone number")}};
}

Notification NotificationsService::AddToInbox(const cppsvc::EventContext& ctx,
                                              const Draft& draft,
                                              const RenderedMessage& message) {
  Notification n;
  n.set_user_id(draft.user_id);
  n.set_kind(draft.kind);
  n.set_title(message.title);
  n.set_body(message.text);
  n.set_source_event_id(ctx.event_id().empty() ? draft.event_key : ctx.event_id());
  n.set_event_key(draft.event_key);
  v1::NotificationRepository(ctx.tx()).Insert(n);
  return n;
}

void NotificationsService::Notify(const cppsvc::EventContext& ctx, Draft draft) {
  if (EventHandled(ctx.tx(), draft.event_key)) return;  // a repeat of the same fact
  const Preference prefs = LoadPreferences(ctx.tx(), draft.user_id);
  if (!draft.values.count("name")) {
    draft.values["name"] = prefs.display_name().empty() ? "there" : prefs.display_name();
  }
  const RenderedMessage message = Render(draft.kind, draft.values);
  const std::string off = KindTurnedOff(prefs, draft.kind);
  Notification n = off.empty() ? AddToInbox(ctx, draft, message) : Notification();
  bool emailed = false;
  for (const Route& route : Routes(prefs, off)) {
    const bool sent = Deliver(ctx, n, draft, route, message);
    emailed |= sent && route.channel == v1::DELIVERY_CHANNEL_EMAIL;
  }
  if (emailed) {
    n.set_emailed(true);
    v1::NotificationRepository(ctx.tx()).Update(n);
  }
}

Status NotificationsService::OnUserRegistered(cppsvc::EventContext& ctx,
                                              const commerce::auth::v1::UserRegistered& event) {
  Preference p = LockPreferences(ctx.tx(), event.user_id());
  p.set_email(event.email());
  p.set_display_name(event.display_name());
  v1::PreferenceRepository(ctx.tx()).Update(p);
  Notify(ctx,
         {event.user_id(),
          v1::NOTIFICATION_KIND_WELCOME,
          "welcome:" + event.user_id(),
          {{"name", event.display_name()}}});
  return Status::Ok();
}

Status NotificationsService::OnOrderConfirmed(cppsvc::EventContext& ctx,
                                              const commerce::orders::v1::OrderConfirmed& event) {
  Notify(ctx,
         {event.user_id(),
          v1::NOTIFICATION_KIND_ORDER_CONFIRMED,
          "order_confirmed:" + event.order_id(),
          {{"order_id", event.order_id()}, {"total", Money(event.total_cents())}}});
  return Status::Ok();
}

Status NotificationsService::OnOrderCancelled(cppsvc::EventContext& ctx,
                                              const commerce::orders::v1::OrderCancelled& event) {
  Notify(ctx,
         {event.user_id(),
          v1::NOTIFICATION_KIND_ORDER_CANCELLED,
          "order_cancelled:" + event.order_id(),
          {{"order_id", event.order_id()},
           {"reason", CancellationText(event.reason())},
           {"detail", event.detail()}}});
  return Status::Ok();
}

Status NotificationsService::OnPaymentFailed(cppsvc::EventContext& ctx,
                                             const commerce::payments::v1::PaymentFailed& event) {
  Notify(ctx,
         {event.user_id(),
          v1::NOTIFICATION_KIND_PAYMENT_FAILED,
          "payment_failed:" + event.payment_id(),
          {{"order_id", event.order_id()}, {"reason", event.reason()}}});
  return Status::Ok();
}

}  // namespace notifications
