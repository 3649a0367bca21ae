// Storage of users, refresh tokens and revoked access tokens.
// InMemoryAuthStore is the first implementation; a PostgreSQL store (tables
// users, refresh_tokens, revoked_tokens) replaces it behind the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "commerce/auth/v1/auth.pb.h"
#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace auth {

using commerce::auth::v1::RefreshToken;
using commerce::auth::v1::RevokedToken;
using commerce::auth::v1::User;

class AuthStore {
 public:
  virtual ~AuthStore() = default;

  // ALREADY_EXISTS when the (lower-case) email is taken.
  virtual cppsvc::Status CreateUser(const User& user) = 0;
  virtual std::optional<User> FindUserByEmail(const std::string& email) = 0;
  virtual std::optional<User> GetUser(const std::string& user_id) = 0;
  // Atomic read-modify-write; NOT_FOUND for unknown ids.
  virtual cppsvc::Status UpdateUser(const std::string& user_id,
                                    const std::function<void(User&)>& change,
                                    User& saved) = 0;
  // Users oldest first: at most `limit` registered after `cursor` (0: from
  // the first); `next_cursor` is 0 when none follows.
  virtual std::vector<User> ListUsers(int64_t cursor, int limit, int64_t& next_cursor) = 0;

  virtual void AddRefreshToken(const RefreshToken& token) = 0;
  // Atomically revokes the live (unrevoked, unexpired) token with this hash,
  // when it belongs to `owner` (any owner when empty), and returns it as it
  // was; nullopt when there is no such token.
  virtual std::optional<RefreshToken> RevokeRefreshToken(const std::string& token_hash,
                                                         const std::string& owner,
                                                         cppsvc::Clock::time_point now) = 0;

  virtual void RevokeAccessToken(const RevokedToken& token) = 0;
  virtual bool IsAccessTokenRevoked(const std::string& jti) = 0;
  // Revoked tokens not expired at `now`, revoked at or after `since`.
  virtual std::vector<RevokedToken> ListRevokedTokens(cppsvc::Clock::time_point since,
                                                      cppsvc::Clock::time_point now) = 0;
};

class InMemoryAuthStore final : public AuthStore {
 public:
  cppsvc::Status CreateUser(const User& user) override;
  std::optional<User> FindUserByEmail(const std::string& email) override;
  std::optional<User> GetUser(const std::string& user_id) override;
  cppsvc::Status UpdateUser(const std::string& user_id,
                            const std::function<void(User&)>& change,
                            User& saved) override;
  std::vector<User> ListUsers(int64_t cursor, int limit, int64_t& next_cursor) override;
  void AddRefreshToken(const RefreshToken& token) override;
  std::optional<RefreshToken> RevokeRefreshToken(const std::string& token_hash,
                                                 const std::string& owner,
                                                 cppsvc::Clock::time_point now) override;
  void RevokeAccessToken(const RevokedToken& token) override;
  bool IsAccessTokenRevoked(const std::string& jti) override;
  std::vector<RevokedToken> ListRevokedTokens(cppsvc::Clock::time_point since,
                                              cppsvc::Clock::time_point now) override;

 private:
  std::mutex mu_;
  int64_t next_seq_ = 1;
  std::map<int64_t, User> users_;  // registration order
  std::unordered_map<std::string, int64_t> by_id_, by_email_;
  std::unordered_map<std::string, RefreshToken> refresh_;  // by token hash
  std::unordered_map<std::string, RevokedToken> revoked_;  // by jti
};

}  // namespace auth
