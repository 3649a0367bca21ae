#include "notifications/store.h"

#include <charconv>

#include <pqxx/pqxx>

#include "commerce/notifications/v1/notifications.cppsvc.repo.h"
#include "common/util.h"
#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"

namespace notifications {
namespace {

namespace v1 = commerce::notifications::v1;

const cppsvc::db::Statement kEnsurePreferences("notifications.Preferences.Ensure", R"sql(
INSERT INTO notification_preferences (user_id, email_override, email) VALUES ($1, '', '')
ON CONFLICT (user_id) DO NOTHING
)sql");

const cppsvc::db::Statement kLockPreferences("notifications.Preferences.Lock", R"sql(
SELECT 1 FROM notification_preferences WHERE user_id = $1 FOR UPDATE
)sql");

// Newest first, after the row ($3 = created_at in microseconds since the
// epoch, $4 = id) of the previous page; kind $2 = 0 for every kind.
const cppsvc::db::Statement kInbox("notifications.Notifications.Inbox", R"sql(
SELECT id, kind, title, body, source_event_id, emailed,
       (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint, coalesce(event_key, '')
FROM notifications
WHERE user_id = $1 AND ($2 = 0 OR kind = $2)
  AND (created_at, id) < (timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4)
ORDER BY created_at DESC, id DESC
LIMIT $5
)sql");

// After every row: 9999-12-31, in microseconds since the epoch.
constexpr int64_t kFirstPage = 253402214400000000;

struct Cursor {
  int64_t micros = kFirstPage;
  std::string id;
};

Cursor ParseCursor(const std::string& token) {
  Cursor c;
  if (token.empty()) return c;
  const size_t colon = token.find(':');
  const char* end = token.data() + (colon == std::string::npos ? token.size() : colon);
  auto [ptr, ec] = std::from_chars(token.data(), end, c.micros);
  if (colon == std::string::npos || ec != std::errc() || ptr != end || c.micros <= 0 ||
      c.micros > kFirstPage) {
    throw cppsvc::db::InvalidArgument("page_token: not a token from a previous response");
  }
  c.id = token.substr(colon + 1);
  return c;
}

Notification ReadNotification(const pqxx::row& row, const std::string& user_id) {
  Notification n;
  n.set_id(row[0].as<std::string>());
  n.set_user_id(user_id);
  n.set_kind(static_cast<NotificationKind>(row[1].as<int>()));
  n.set_title(row[2].as<std::string>());
  n.set_body(row[3].as<std::string>());
  n.set_source_event_id(row[4].as<std::string>());
  n.set_emailed(row[5].as<bool>());
  const int64_t micros = row[6].as<int64_t>();
  n.mutable_created_at()->set_seconds(micros / 1000000);
  n.mutable_created_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  if (const std::string key = row[7].as<std::string>(); !key.empty()) n.set_event_key(key);
  return n;
}

}  // namespace

Preference DefaultPreferences(const std::string& user_id) {
  Preference p;
  p.set_user_id(user_id);
  p.set_email_enabled(true);
  p.set_order_updates(true);
  p.set_payment_alerts(true);
  p.set_sms_enabled(false);
  return p;
}

Preference LoadPreferences(cppsvc::db::Tx& tx, const std::string& user_id) {
  return v1::PreferenceRepository(tx).Find(user_id).value_or(DefaultPreferences(user_id));
}

Preference LockPreferences(cppsvc::db::Tx& tx, const std::string& user_id) {
  tx.exec_prepared(kEnsurePreferences.name, user_id);
  tx.exec_prepared(kLockPreferences.name, user_id);
  return v1::PreferenceRepository(tx).Get(user_id);
}

InboxPage ListInbox(cppsvc::db::Tx& tx,
                    const std::string& user_id,
                    std::optional<NotificationKind> kind,
                    const std::string& page_token,
                    int limit) {
  const Cursor after = ParseCursor(page_token);
  pqxx::result rows =
      tx.exec_prepared(kInbox.name,
                       user_id,
                       static_cast<int>(kind.value_or(v1::NOTIFICATION_KIND_UNSPECIFIED)),
                       after.micros,
                       after.id,
                       limit + 1);
  InboxPage page;
  for (const auto& row : rows) {
    if (static_cast<int>(page.notifications.size()) == limit) {
      const Notification& last = page.notifications.back();
      page.next_page_token =
          std::to_string(last.created_at().seconds() * 1000000 + last.created_at().nanos() / 1000) +
          ":" + last.id();
      break;
    }
    page.notifications.push_back(ReadNotification(row, user_id));
  }
  return page;
}

bool EventHandled(cppsvc::db::Tx& tx, const std::string& event_key) {
  v1::NotificationFilter notification;
  notification.event_key = event_key;
  if (!v1::NotificationRepository(tx).List(notification, 1).rows.empty()) return true;
  v1::DeliveryFilter delivery;
  delivery.event_key = event_key;
  return !v1::DeliveryRepository(tx).List(delivery, 1).rows.empty();
}

}  // namespace notifications
