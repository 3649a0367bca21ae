#include "relay_retention.h"

#include <string>

#include "relay_close.h"

namespace cppsvc::events::internal {
namespace {

constexpr auto kRetentionEvery = std::chrono::minutes(1);
constexpr long kRetentionBatch = 10000;

}  // namespace

void Retention::RunIfDue(pqxx::connection& connection) {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return;
  next_ = now + kRetentionEvery;
  pqxx::work tx(connection);
  // Rows that a relay of version 1 of the runtime's tables marked sent in
  // place (still running during a rolling upgrade) move first.
  static const std::string kMoveMarkedSent = MoveToSentSql("status = 'sent'");
  tx.exec(kMoveMarkedSent);
  const pqxx::result deleted = tx.exec_params(
      "DELETE FROM cppsvc_outbox_sent WHERE ctid = ANY(ARRAY(SELECT ctid FROM cppsvc_outbox_sent "
      "WHERE sent_at < now() - make_interval(secs => $1) LIMIT $2))",
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(keep_).count()),
      kRetentionBatch);
  tx.commit();
  // A full batch: more may be expired; the next round continues.
  if (deleted.affected_rows() >= static_cast<size_t>(kRetentionBatch)) next_ = now;
}

}  // namespace cppsvc::events::internal
