// Storage of inboxes and notification preferences. InMemoryNotificationStore
// is the first implementation; a PostgreSQL store (tables notifications and
// notification_preferences) replaces it behind the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "commerce/notifications/v1/notifications.pb.h"

namespace notifications {

using commerce::notifications::v1::Notification;
using commerce::notifications::v1::NotificationKind;
using commerce::notifications::v1::Preference;

class NotificationStore {
 public:
  virtual ~NotificationStore() = default;

  // Whether a notification was made for this event already.
  virtual bool HasSource(const std::string& source_event_id) = 0;
  // Adds a notification; false (nothing added) when one exists for its
  // source_event_id.
  virtual bool Add(const Notification& notification) = 0;
  // The user's notifications, newest first, optionally of one kind: at most
  // `limit` of those added before `cursor` (0: from the newest).
  // `next_cursor` is 0 when none follows the page.
  virtual std::vector<Notification> List(const std::string& user_id,
                                         std::optional<NotificationKind> kind,
                                         int64_t cursor,
                                         int limit,
                                         int64_t& next_cursor) = 0;

  // The user's preferences; nullopt when never set.
  virtual std::optional<Preference> GetPreferences(const std::string& user_id) = 0;
  // Atomic read-modify-write of the user's preferences, starting from
  // `defaults` when never set. Returns them as saved.
  virtual Preference UpdatePreferences(const std::string& user_id,
                                       const Preference& defaults,
                                       const std::function<void(Preference&)>& change) = 0;
};

class InMemoryNotificationStore final : public NotificationStore {
 public:
  bool HasSource(const std::string& source_event_id) override;
  bool Add(const Notification& notification) override;
  std::vector<Notification> List(const std::string& user_id,
                                 std::optional<NotificationKind> kind,
                                 int64_t cursor,
                                 int limit,
                                 int64_t& next_cursor) override;
  std::optional<Preference> GetPreferences(const std::string& user_id) override;
  Preference UpdatePreferences(const std::string& user_id,
                               const Preference& defaults,
                               const std::function<void(Preference&)>& change) override;

 private:
  std::mutex mu_;
  int64_t next_seq_ = 1;
  std::unordered_map<std::string, std::map<int64_t, Notification>>
      inboxes_;  // user -> seq -> notification
  std::set<std::string> sources_;
  std::unordered_map<std::string, Preference> preferences_;
};

}  // namespace notifications
