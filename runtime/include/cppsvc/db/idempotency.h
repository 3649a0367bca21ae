// Idempotency keys (table cppsvc_idempotency_keys): an RPC called with a key
// claims it in its own transaction and stores its response there, so a
// retried call replays the committed response instead of running again.
// Keys are scoped by caller: another caller's key is simply a new key, so a
// replay never hands one caller another's response, and a refusal never
// tells one caller which keys another has used.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cppsvc/db/transaction.h"
#include "cppsvc/status.h"

namespace cppsvc::db {

struct StoredResponse {
  StatusCode code = StatusCode::kOk;
  std::string response;  // the serialized response message
};

// Where a key is stored: the RPC, the caller it belongs to (the token's
// subject; "" for anonymous callers of public RPCs) and the key itself.
struct IdempotencyScope {
  std::string_view method;
  std::string_view caller;
  std::string_view key;
};

// Claims `scope` in `tx`. Returns
//  - OK with *replay empty: first call; run the handler, then Store.
//  - OK with *replay set: a call with the same request committed; return it.
//  - FAILED_PRECONDITION: the key was used with a different request.
// A concurrent call with the same key waits (on the uncommitted row) until
// the first one's transaction ends, then replays it, or runs if it rolled back.
Status ClaimIdempotencyKey(Tx& tx,
                           const IdempotencyScope& scope,
                           std::string_view request_bytes,
                           std::optional<StoredResponse>* replay);

// Stores the response of a claimed key in the same transaction. Throws
// std::logic_error if `tx` did not claim the key.
void StoreIdempotentResponse(Tx& tx,
                             const IdempotencyScope& scope,
                             StatusCode code,
                             std::string_view response_bytes);

}  // namespace cppsvc::db
