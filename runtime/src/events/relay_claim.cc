#include "relay_claim.h"

#include "relay_pg_text.h"

namespace cppsvc::events::internal {
namespace {

// ctid: the row's place, stable while this transaction holds its lock, so
// the closing statement finds it without an index lookup. The age is
// date_part's float8 (EXTRACT would compute it in numeric, more slowly).
// $2..$3: the seq range of the batch in flight, whose rows another
// transaction holds; passing over them in the scan costs less than failing
// to lock each. Rows committed late into that range are claimed once the
// batch is closed.
constexpr char kClaimSql[] =
    "SELECT id::text, subject, event_type, ordering_key, payload, headers::text, "
    "date_part('epoch', clock_timestamp() - created_at), ctid::text, seq "
    "FROM cppsvc_outbox WHERE status = 'pending' AND (seq < $2 OR seq > $3) "
    "ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED";

}  // namespace

Batch ClaimBatch(pqxx::connection& connection,
                 size_t limit,
                 int64_t skip_first,
                 int64_t skip_last) {
  Batch batch;
  batch.tx = std::make_unique<pqxx::work>(connection);
  batch.claimed = batch.tx->exec_params(kClaimSql, static_cast<long>(limit), skip_first, skip_last);
  const pqxx::result& claimed = batch.claimed;
  if (claimed.empty()) return batch;
  batch.first_seq = claimed.front()[kClaimSeq].as<int64_t>();
  batch.last_seq = claimed.back()[kClaimSeq].as<int64_t>();
  batch.claimed_at = std::chrono::steady_clock::now();
  batch.rows.reserve(claimed.size());
  for (const auto& r : claimed) {
    batch.rows.push_back(
        {std::string_view(r[kClaimCtid].c_str(), r[kClaimCtid].size()), Float8(r[kClaimAge])});
  }
  return batch;
}

}  // namespace cppsvc::events::internal
