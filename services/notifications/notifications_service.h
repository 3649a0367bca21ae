// Inboxes and preferences; turns other services' events into notifications.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "commerce/notifications/v1/notifications.cppsvc.h"
#include "notifications/notification_store.h"

namespace notifications {

namespace v1 = commerce::notifications::v1;

// Sends email. No transport is configured yet: NullMailer sends nothing (and
// notifications are then not marked emailed).
class Mailer {
 public:
  virtual ~Mailer() = default;
  // True when the message was handed to the mail transport.
  virtual bool Send(const std::string& to, const std::string& subject, const std::string& body) = 0;
};

class NullMailer final : public Mailer {
 public:
  bool Send(const std::string&, const std::string&, const std::string&) override { return false; }
};

// Keeps what it is given (tests, local runs).
class RecordingMailer final : public Mailer {
 public:
  struct Mail {
    std::string to, subject, body;
  };
  bool Send(const std::string& to, const std::string& subject, const std::string& body) override;
  std::vector<Mail> sent() const;

 private:
  mutable std::mutex mu_;
  std::vector<Mail> sent_;
};

class NotificationsService final : public v1::NotificationsServiceBase {
 public:
  NotificationsService();  // in-memory store, NullMailer
  NotificationsService(std::shared_ptr<NotificationStore> store, std::shared_ptr<Mailer> mailer);

  // Preferences of a user who never set any.
  static Preference Defaults(const std::string& user_id);

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
  // Puts a notification in the user's inbox (once per source event) when
  // the preferences allow its kind, and emails it when they allow email.
  void Notify(const cppsvc::EventContext& ctx,
              const std::string& fallback_source,
              const std::string& user_id,
              NotificationKind kind,
              const std::string& title,
              const std::string& body);

  std::shared_ptr<NotificationStore> store_;
  std::shared_ptr<Mailer> mailer_;
};

}  // namespace notifications
