// In-memory implementation of the generated library::loans::v1::LoansServiceBase.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "library/loans/v1/loans.cppsvc.h"

namespace library::loans {

class LoansService final : public v1::LoansServiceBase {
 public:
  // `today` is the current day number (days since the epoch); loans are due
  // `days` after it.
  explicit LoansService(std::int64_t today) : today_(today) {}

  ::cppsvc::Status BorrowBook(::cppsvc::CallContext& ctx,
                              const v1::BorrowBookRequest& request,
                              v1::BorrowBookResponse& response) override;
  ::cppsvc::Status ReturnBook(::cppsvc::CallContext& ctx,
                              const v1::ReturnBookRequest& request,
                              v1::ReturnBookResponse& response) override;
  ::cppsvc::Status ListLoans(::cppsvc::CallContext& ctx,
                             const v1::ListLoansRequest& request,
                             v1::ListLoansResponse& response) override;
  ::cppsvc::Status OnBookReturned(::cppsvc::EventContext& ctx,
                                  const v1::BookReturned& event) override;

  // Stand-in for the outbox: events published so far, in order.
  const std::vector<v1::BookBorrowed>& borrowed_events() const { return borrowed_events_; }
  const std::vector<v1::BookReturned>& returned_events() const { return returned_events_; }
  // How often each book came back, counted from delivered BookReturned events.
  int times_returned(const std::string& book_id) const;

 private:
  std::int64_t today_;
  std::int64_t next_id_ = 1;
  std::map<std::string, v1::Loan> loans_;               // by loan_id
  std::map<std::string, v1::BorrowBookResponse> idem_;  // by request_id
  std::vector<v1::BookBorrowed> borrowed_events_;
  std::vector<v1::BookReturned> returned_events_;
  std::set<std::string> seen_event_ids_;
  std::map<std::string, int> returns_by_book_;
};

}  // namespace library::loans
