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

}  // namespace cppsvc::auth
