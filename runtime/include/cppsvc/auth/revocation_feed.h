// Keeps a RevocationList in step with the service that revokes tokens, so
// every service refuses a token revoked anywhere (logout), not only its
// issuer. Polls an RPC shaped like the commerce auth service's
// ListRevokedTokens, on the wire:
//   request  { google.protobuf.Timestamp revoked_after = 1; }
//   response { repeated string jtis = 1; google.protobuf.Timestamp as_of = 2; }
// Each poll asks for what was revoked since the previous answer's `as_of`
// and adds it; a periodic full poll replaces the list, which lets revoked
// tokens that have since expired drop out.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/status.h"

namespace cppsvc::auth {

struct RevocationFeedOptions {
  std::string target;  // host:port of the revoking service
  std::string method;  // full gRPC path, e.g. "/commerce.auth.v1.AuthService/ListRevokedTokens"
  std::string bearer_token;  // credential of this service (the RPC is not public)
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds full_refresh{600000};
  std::chrono::milliseconds timeout{1000};
  // How long the list may go without a good fetch (or, before the first
  // one, since Start) before it is marked stale (RevocationList::Stale):
  // the service then refuses tokens issued before the last good fetch, or
  // all of them with `refuse_all_when_stale`. 0: never stale.
  std::chrono::milliseconds max_staleness{0};
  bool refuse_all_when_stale = false;
  // cppsvc_revocation_stale{service} (1 while stale) and
  // cppsvc_revocation_stale_total{service} (outages), when set.
  std::shared_ptr<observability::Metrics> metrics;
  std::string service;
};

class RevocationFeed {
 public:
  RevocationFeed(RevocationFeedOptions options, std::shared_ptr<RevocationList> list);
  ~RevocationFeed();  // stops the poller
  RevocationFeed(const RevocationFeed&) = delete;
  RevocationFeed& operator=(const RevocationFeed&) = delete;

  // One poll now (incremental, or full when `full` or nothing was read yet).
  Status PollOnce(bool full = false);
  // Polls every `interval` on a background thread until destroyed.
  void Start();
  // Polls that succeeded so far.
  uint64_t successes() const { return successes_.load(); }
  // Marks the list stale or fresh by the time since the last good fetch
  // (or since `started` before the first); logs and counts each outage.
  void CheckStaleness(std::chrono::steady_clock::time_point started);

 private:
  struct Impl;
  void Loop();

  RevocationFeedOptions options_;
  std::shared_ptr<RevocationList> list_;
  std::unique_ptr<Impl> impl_;
  std::optional<std::chrono::system_clock::time_point> as_of_;
  std::chrono::steady_clock::time_point last_full_{};
  std::chrono::steady_clock::time_point last_good_{};
  std::chrono::system_clock::time_point last_good_wall_{};
  std::optional<std::chrono::system_clock::time_point> started_wall_;
  std::atomic<uint64_t> successes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Wire helpers, exposed for tests.
std::string EncodeRevokedAfter(std::optional<std::chrono::system_clock::time_point> after);
bool DecodeRevokedTokens(const std::string& bytes,
                         std::vector<std::string>& jtis,
                         std::optional<std::chrono::system_clock::time_point>& as_of);

}  // namespace cppsvc::auth
