// The relay's claim: pending outbox rows taken by status, locked in a
// transaction that stays open until the batch is closed (relay_close.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

namespace cppsvc::events::internal {

// The columns of a claimed row, in the claim's order.
enum ClaimColumn {
  kClaimId,
  kClaimSubject,
  kClaimEventType,
  kClaimOrderingKey,
  kClaimPayload,
  kClaimHeaders,
  kClaimAge,
  kClaimCtid,
  kClaimSeq,
};

// A view into the batch's claim result, which the batch keeps.
struct ClaimedRow {
  std::string_view ctid;
  double age_seconds = 0;
};

// A claimed batch whose publishes are out; its transaction holds the rows.
struct Batch {
  uint64_t serial = 0;
  int connection = 0;
  std::unique_ptr<pqxx::work> tx;
  pqxx::result claimed;
  std::vector<ClaimedRow> rows;
  std::chrono::steady_clock::time_point claimed_at;
  // The seq range of the rows, which the claim returns in seq order.
  int64_t first_seq = 0;
  int64_t last_seq = -1;
};

// Claims up to `limit` pending rows in seq order on `connection`, passing
// over seq `skip_first` to `skip_last` (the batch in flight, whose rows
// another transaction holds), in a transaction the batch keeps open. Never
// by "seq greater than the last seen": a row committing late would be
// skipped.
Batch ClaimBatch(pqxx::connection& connection, size_t limit, int64_t skip_first, int64_t skip_last);

}  // namespace cppsvc::events::internal
