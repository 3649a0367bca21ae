// Retention of sent outbox rows: nats-server 2.9 acks before its file store
// syncs, so rows are kept in cppsvc_outbox_sent for the retention period (a
// lost stream can be republished from them), then deleted in batches.
#pragma once

#include <chrono>

#include <pqxx/pqxx>

namespace cppsvc::events::internal {

class Retention {
 public:
  explicit Retention(std::chrono::hours keep) : keep_(keep) {}

  // Deletes a batch of expired sent rows on `connection` when that is due:
  // once a minute, or at once again while batches come full.
  void RunIfDue(pqxx::connection& connection);

 private:
  std::chrono::hours keep_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace cppsvc::events::internal
