// Inboxes and preferences; turns other services' events into notifications
// rendered from templates, delivered over the channels the user's
// preferences allow, each delivery recorded with its outcome.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "commerce/notifications/v1/notifications.cppsvc.h"
#include "notifications/senders.h"
#include "notifications/store.h"
#include "notifications/templates.h"

namespace notifications {

namespace v1 = commerce::notifications::v1;

class NotificationsService final : public v1::NotificationsServiceBase {
 public:
  NotificationsService();  // simulated senders that log what they send
  NotificationsService(std::shared_ptr<Sender> email, std::shared_ptr<Sender> sms);

  cppsvc::Status ListNotifications(cppsvc::CallContext& ctx,
                                   const v1::ListNotificationsRequest& request,
                                   v1::ListNotificationsResponse& response) override;
  cppsvc::Status GetPreferences(cppsvc::CallContext& ctx,
                                const v1::GetPreferencesRequest& request,
                                v1::GetPreferencesResponse& response) override;
  cppsvc::Status UpdatePreferences(cppsvc::CallContext& ctx,
                                   const v1::UpdatePreferencesRequest& request,
                                   v1::UpdatePreferencesResponse& response) override;

  cppsvc::Status OnUserRegistered(cppsvc::EventContext& ctx,
                                  const commerce::auth::v1::UserRegistered& event) override;
  cppsvc::Status OnOrderConfirmed(cppsvc::EventContext& ctx,
                                  const commerce::orders::v1::OrderConfirmed& event) override;
  cppsvc::Status OnOrderCancelled(cppsvc::EventContext& ctx,
                                  const commerce::orders::v1::OrderCancelled& event) override;
  cppsvc::Status OnPaymentFailed(cppsvc::EventContext& ctx,
                                 const commerce::payments::v1::PaymentFailed& event) override;

 private:
  // What an event asks to tell a user.
  struct Draft {
    std::string user_id;
    NotificationKind kind;
    std::string event_key;  // one notification and one delivery per channel per key
    TemplateValues values;  // "name" is added from the preferences
  };
  // Puts the notification in the inbox when the preferences allow its kind,
  // and delivers it over email and SMS, once per event key.
  void Notify(const cppsvc::EventContext& ctx, Draft draft);
  // Where a channel's delivery goes, or why it is skipped.
  struct Route {
    DeliveryChannel channel;
    std::string address;
    std::string skip;  // empty: send
  };
  // The email and SMS routes the preferences give; `off`: why the kind is
  // turned off, if it is (every route is then skipped).
  static std::vector<Route> Routes(const Preference& prefs, const std::string& off);
  // Puts the notification in the user's inbox.
  static Notification AddToInbox(const cppsvc::EventContext& ctx,
                                 const Draft& draft,
                                 const RenderedMessage& message);
  // Records the delivery of `notification` (empty when the preferences turn
  // its kind off) over one channel, sending it unless skipped. True when sent.
  bool Deliver(const cppsvc::EventContext& ctx,
               const Notification& notification,
               const Draft& draft,
               const Route& route,
               const RenderedMessage& message);

  std::shared_ptr<Sender> email_;
  std::shared_ptr<Sender> sms_;
};

}  // namespace notifications
