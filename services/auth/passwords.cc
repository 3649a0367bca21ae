#include "auth/passwords.h"

#include <new>
#include <stdexcept>

#include <sodium.h>

#include "auth/auth_options.h"

namespace auth {

PasswordHasher::PasswordHasher(unsigned long long opslimit, size_t memlimit)
    : opslimit_(opslimit), memlimit_(memlimit) {
  if (opslimit < kMinPwhashOpslimit || memlimit < kMinPwhashMemlimit) {
    throw std::invalid_argument("Argon2id cost below 19 MiB and 2 passes");
  }
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialized");
  dummy_hash_ = Hash("not the password of any account");
}

std::string PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out,
                            password.data(),
                            password.size(),
                            opslimit_,
                            memlimit_,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::bad_alloc();  // the only way it fails: the memory is not there
  }
  return out;
}

bool PasswordHasher::Verify(const std::string& hash, std::string_view password) const {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(const std::string& hash) const {
  return crypto_pwhash_str_needs_rehash(hash.c_str(), opslimit_, memlimit_) != 0;
}

void PasswordHasher::VerifyDummy(std::string_view password) const {
  (void)Verify(dummy_hash_, password);
}

}  // namespace auth
