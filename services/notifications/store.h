// The notifications database beyond what the generated repositories do:
// preferences read with their defaults or locked for a change, inboxes
// listed newest first, and whether an event was handled already.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commerce/notifications/v1/notifications.pb.h"
#include "cppsvc/db/transaction.h"

namespace notifications {

using commerce::notifications::v1::Notification;
using commerce::notifications::v1::NotificationKind;
using commerce::notifications::v1::Preference;

// Preferences of a user who never set any (the columns' defaults).
Preference DefaultPreferences(const std::string& user_id);
// The user's preferences, or the defaults.
Preference LoadPreferences(cppsvc::db::Tx& tx, const std::string& user_id);
// The user's preferences row, created with the defaults when missing and
// locked until the transaction ends, for a read-modify-write.
Preference LockPreferences(cppsvc::db::Tx& tx, const std::string& user_id);

struct InboxPage {
  std::vector<Notification> notifications;
  std::string next_page_token;  // empty on the last page
};
// The user's notifications, newest first, optionally of one kind, `limit`
// at a time after the one `page_token` names. A token this function did
// not return throws cppsvc::db::InvalidArgument (INVALID_ARGUMENT).
InboxPage ListInbox(cppsvc::db::Tx& tx,
                    const std::string& user_id,
                    std::optional<NotificationKind> kind,
                    const std::string& page_token,
                    int limit);

// Whether a notification or a delivery exists for this event key.
bool EventHandled(cppsvc::db::Tx& tx, const std::string& event_key);

}  // namespace notifications
