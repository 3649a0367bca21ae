#include "relay_close.h"

#include <string_view>
#include <unordered_map>
#include <utility>

#include "relay_pg_text.h"

namespace cppsvc::events::internal {

std::string MoveToSentSql(const std::string& where) {
  static constexpr char kColumns[] =
      "id, seq, subject, event_type, ordering_key, payload, headers, attempts, created_at";
  return std::string("WITH moved AS (DELETE FROM cppsvc_outbox WHERE ") + where + " RETURNING " +
         kColumns + ", sent_at) INSERT INTO cppsvc_outbox_sent (" + kColumns +
         ", sent_at) SELECT " + kColumns + ", coalesce(sent_at, now()) FROM moved";
}

CloseReport MarkBatch(Batch& batch,
                      const std::vector<PublishResult>& results,
                      const std::string& no_ack,
                      double since_claim,
                      bool count_pending) {
  CloseReport report;
  std::vector<std::string_view> sent_ctids;
  std::unordered_map<std::string, std::vector<std::string_view>> failed_by_error;
  for (size_t i = 0; i < batch.rows.size(); ++i) {
    const ClaimedRow& row = batch.rows[i];
    const PublishResult& result = results[i];
    if (result.state == PublishResult::State::kAcked) {
      sent_ctids.push_back(row.ctid);
      if (result.duplicate) ++report.duplicates;
      report.lags.push_back(row.age_seconds + since_claim);
    } else {
      failed_by_error[result.state == PublishResult::State::kWaiting ? no_ack : result.error]
          .push_back(row.ctid);
    }
  }

  pqxx::work& tx = *batch.tx;
  if (!sent_ctids.empty()) {
    static const std::string kMoveAcked = MoveToSentSql("ctid = ANY($1::tid[])");
    tx.exec_params(kMoveAcked, ArrayLiteral(sent_ctids));
  }
  for (const auto& [error, ctids] : failed_by_error) {
    report.failures += ctids.size();
    tx.exec_params(
        "UPDATE cppsvc_outbox SET attempts = attempts + 1, last_error = $2 "
        "WHERE ctid = ANY($1::tid[])",
        ArrayLiteral(ctids),
        error);
  }
  if (count_pending) {
    report.pending =
        tx.exec("SELECT count(*) FROM cppsvc_outbox WHERE status = 'pending'")[0][0].as<long>();
  }
  tx.commit();
  report.sent = sent_ctids.size();
  if (!failed_by_error.empty()) report.first_error = failed_by_error.begin()->first;
  return report;
}

void BatchCloser::Start(Batch batch) {
  std::lock_guard lock(mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  closing_ = std::move(batch);
  done_ = false;
  cv_.notify_all();
}

size_t BatchCloser::Join(bool& failed) {
  std::unique_lock lock(mu_);
  if (!closing_) return 0;
  cv_.wait(lock, [this] { return done_; });
  std::exception_ptr error = std::exchange(error_, nullptr);
  closing_.reset();  // rolls back unless committed
  if (failed_) failed = true;
  if (error) std::rethrow_exception(error);
  return sent_;
}

void BatchCloser::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return quit_ || (closing_ && !done_); });
    if (quit_) return;
    lock.unlock();
    size_t sent = 0;
    bool failed = false;
    std::exception_ptr error;
    try {
      sent = close_(*closing_, failed);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    sent_ = sent;
    failed_ = failed;
    error_ = error;
    done_ = true;
    cv_.notify_all();
  }
}

void BatchCloser::Quit() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cppsvc::events::internal
