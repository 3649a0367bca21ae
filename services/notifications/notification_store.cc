#include "notifications/notification_store.h"

namespace notifications {

bool InMemoryNotificationStore::HasSource(const std::string& source_event_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_.count(source_event_id) != 0;
}

bool InMemoryNotificationStore::Add(const Notification& notification) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sources_.insert(notification.source_event_id()).second) return false;
  inboxes_[notification.user_id()][next_seq_++] = notification;
  return true;
}

std::vector<Notification> InMemoryNotificationStore::List(const std::string& user_id,
                                                          std::optional<NotificationKind> kind,
                                                          int64_t cursor,
                                                          int limit,
                                                          int64_t& next_cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Notification> out;
  next_cursor = 0;
  auto inbox = inboxes_.find(user_id);
  if (inbox == inboxes_.end()) return out;
  const auto& all = inbox->second;
  auto it = cursor > 0 ? std::make_reverse_iterator(all.lower_bound(cursor)) : all.rbegin();
  int64_t last = 0;
  for (; it != all.rend(); ++it) {
    if (kind && it->second.kind() != *kind) continue;
    if (static_cast<int>(out.size()) == limit) {
      next_cursor = last;
      break;
    }
    out.push_back(it->second);
    last = it->first;
  }
  return out;
}

std::optional<Preference> InMemoryNotificationStore::GetPreferences(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = preferences_.find(user_id);
  if (it == preferences_.end()) return std::nullopt;
  return it->second;
}

Preference InMemoryNotificationStore::UpdatePreferences(
    const std::string& user_id,
    const Preference& defaults,
    const std::function<void(Preference&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = preferences_.try_emplace(user_id, defaults);
  change(it->second);
  return it->second;
}

}  // namespace notifications
