// Argon2id password hashes in libsodium's string format
// (crypto_pwhash_str), with the cost fixed by configuration.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace auth {

class PasswordHasher {
 public:
  // Throws std::invalid_argument below OWASP's minimum (19 MiB, 2 passes)
  // and std::runtime_error when libsodium cannot start. Hashes a dummy
  // password with the same cost, for VerifyDummy.
  PasswordHasher(unsigned long long opslimit, size_t memlimit);

  // A new hash of `password`; throws std::bad_alloc when the memory the cost
  // asks for is not available.
  std::string Hash(std::string_view password) const;
  // Whether `password` matches `hash` (any Argon2 parameters).
  bool Verify(const std::string& hash, std::string_view password) const;
  // Whether `hash` was made with other parameters than the configured ones.
  bool NeedsRehash(const std::string& hash) const;
  // Checks `password` against the dummy hash: an unknown account costs as
  // much time as a wrong password.
  void VerifyDummy(std::string_view password) const;

 private:
  unsigned long long opslimit_;
  size_t memlimit_;
  std::string dummy_hash_;
};

}  // namespace auth
