#include "auth/auth_store.h"

#include "common/util.h"

namespace auth {

using cppsvc::Status;
using services::FromTimestamp;

Status InMemoryAuthStore::CreateUser(const User& user) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_email_.count(user.email()) != 0)
    return Status::AlreadyExists("an account with this email exists");
  const int64_t seq = next_seq_++;
  users_[seq] = user;
  by_id_[user.id()] = seq;
  by_email_[user.email()] = seq;
  return Status::Ok();
}

std::optional<User> InMemoryAuthStore::FindUserByEmail(const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_email_.find(email);
  if (it == by_email_.end()) return std::nullopt;
  return users_.at(it->second);
}

std::optional<User> InMemoryAuthStore::GetUser(const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(user_id);
  if (it == by_id_.end()) return std::nullopt;
  return users_.at(it->second);
}

Status InMemoryAuthStore::UpdateUser(const std::string& user_id,
                                     const std::function<void(User&)>& change,
                                     User& saved) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(user_id);
  if (it == by_id_.end()) return Status::NotFound("user " + user_id + " does not exist");
  User& user = users_.at(it->second);
  change(user);
  saved = user;
  return Status::Ok();
}

std::vector<User> InMemoryAuthStore::ListUsers(int64_t cursor, int limit, int64_t& next_cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<User> out;
  next_cursor = 0;
  for (auto it = users_.upper_bound(cursor); it != users_.end(); ++it) {
    if (static_cast<int>(out.size()) == limit) {
      next_cursor = std::prev(it)->first;
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

void InMemoryAuthStore::AddRefreshToken(const RefreshToken& token) {
  std::lock_guard<std::mutex> lock(mu_);
  refresh_[token.token_hash()] = token;
}

std::optional<RefreshToken> InMemoryAuthStore::RevokeRefreshToken(const std::string& token_hash,
                                                                  const std::string& owner,
                                                                  cppsvc::Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = refresh_.find(token_hash);
  if (it == refresh_.end()) return std::nullopt;
  RefreshToken& token = it->second;
  if (token.has_revoked_at() || FromTimestamp(token.expires_at()) <= now) return std::nullopt;
  if (!owner.empty() && token.user_id() != owner) return std::nullopt;
  RefreshToken before = token;
  *token.mutable_revoked_at() = services::ToTimestamp(now);
  return before;
}

void InMemoryAuthStore::RevokeAccessToken(const RevokedToken& token) {
  std::lock_guard<std::mutex> lock(mu_);
  revoked_.try_emplace(token.jti(), token);
}

bool InMemoryAuthStore::IsAccessTokenRevoked(const std::string& jti) {
  std::lock_guard<std::mutex> lock(mu_);
  return revoked_.count(jti) != 0;
}

std::vector<RevokedToken> InMemoryAuthStore::ListRevokedTokens(cppsvc::Clock::time_point since,
                                                               cppsvc::Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RevokedToken> out;
  for (auto it = revoked_.begin(); it != revoked_.end();) {
    if (FromTimestamp(it->second.expires_at()) <= now) {
      it = revoked_.erase(it);  // expired: verifiers refuse the token anyway
      continue;
    }
    if (FromTimestamp(it->second.revoked_at()) >= since) out.push_back(it->second);
    ++it;
  }
  return out;
}

}  // namespace auth
