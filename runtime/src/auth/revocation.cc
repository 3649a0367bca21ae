#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "cppsvc/auth/jwt.h"

namespace cppsvc::auth {

bool RevocationList::IsRevoked(const std::string& jti) const {
  std::lock_guard<std::mutex> lock(mu_);
  return revoked_.count(jti) != 0;
}

void RevocationList::Revoke(const std::string& jti) {
  std::lock_guard<std::mutex> lock(mu_);
  revoked_.insert(jti);
}

void RevocationList::Replace(std::set<std::string> jtis) {
  std::set<std::string> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(revoked_);
    revoked_.swap(jtis);
  }
  // `old` is destroyed here, outside the lock.
}

size_t RevocationList::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revoked_.size();
}

void RevocationList::Stale(std::chrono::system_clock::time_point fresh_as_of, bool refuse_all) {
  std::lock_guard<std::mutex> lock(mu_);
  fresh_as_of_s_ = std::chrono::duration<double>(fresh_as_of.time_since_epoch()).count();
  refuse_all_ = refuse_all;
  stale_.store(true);
}

void RevocationList::Fresh() {
  stale_.store(false);
}

const char* RevocationList::Refusal(const std::string& jti, std::optional<double> iat_s) const {
  const bool stale = stale_.load(std::memory_order_relaxed);
  if (jti.empty() && !stale) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (!jti.empty() && revoked_.count(jti) != 0) return "token revoked";
  if (!stale) return nullptr;
  if (refuse_all_) return "revocation list is stale";
  if (!iat_s || *iat_s < fresh_as_of_s_) {
    return "token issued before the revocation list went stale";
  }
  return nullptr;
}

}  // namespace cppsvc::auth
