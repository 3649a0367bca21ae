#include "loans_service.h"

#include <algorithm>

namespace library::loans {
namespace {

// Members act for themselves; librarians (and callers without a token, i.e.
// calls made in-process) for anyone. The generated server enforces the same
// through owner_field; the handler keeps its own guard.
bool MayActFor(const ::cppsvc::CallContext& ctx, const std::string& member_id) {
  const ::cppsvc::Caller& caller = ctx.caller();
  return caller.anonymous() || caller.HasRole("librarian") || caller.subject == member_id;
}

}  // namespace

::cppsvc::Status LoansService::BorrowBook(::cppsvc::CallContext& ctx,
                                          const v1::BorrowBookRequest& request,
                                          v1::BorrowBookResponse& response) {
  if (!request.request_id().empty()) {
    auto it = idem_.find(request.request_id());
    if (it != idem_.end()) {
      response = it->second;
      return ::cppsvc::Status::Ok();
    }
  }
  if (request.member_id().empty() || request.book_id().empty()) {
    return ::cppsvc::Status::InvalidArgument("member_id and book_id are required");
  }
  if (request.days() < 1 || request.days() > 60) {
    return ::cppsvc::Status::InvalidArgument("days must be within [1, 60]");
  }
  if (!MayActFor(ctx, request.member_id())) {
    return ::cppsvc::Status::PermissionDenied("members may only borrow for themselves");
  }
  for (const auto& [id, loan] : loans_) {
    if (loan.book_id() == request.book_id()) {
      return ::cppsvc::Status::FailedPrecondition("book " + request.book_id() +
                                                  " is already lent (" + id + ")");
    }
  }

  v1::Loan loan;
  loan.set_loan_id("loan-" + std::to_string(next_id_++));
  loan.set_member_id(request.member_id());
  loan.set_book_id(request.book_id());
  loan.mutable_borrowed_at()->set_seconds(today_ * 86400);
  loan.set_due_day(today_ + request.days());
  loan.set_version(1);
  loans_[loan.loan_id()] = loan;

  v1::BookBorrowed event;
  event.set_loan_id(loan.loan_id());
  event.set_member_id(loan.member_id());
  event.set_book_id(loan.book_id());
  borrowed_events_.push_back(event);

  *response.mutable_loan() = loan;
  if (!request.request_id().empty()) idem_[request.request_id()] = response;
  return ::cppsvc::Status::Ok();
}

::cppsvc::Status LoansService::ReturnBook(::cppsvc::CallContext& /*ctx*/,
                                          const v1::ReturnBookRequest& request,
                                          v1::ReturnBookResponse& response) {
  auto it = loans_.find(request.loan_id());
  if (it == loans_.end())
    return ::cppsvc::Status::NotFound("loan " + request.loan_id() + " does not exist");

  v1::BookReturned event;
  event.set_loan_id(it->second.loan_id());
  event.set_member_id(it->second.member_id());
  event.set_book_id(it->second.book_id());
  returned_events_.push_back(event);

  *response.mutable_loan() = std::move(it->second);
  loans_.erase(it);
  return ::cppsvc::Status::Ok();
}

::cppsvc::Status LoansService::ListLoans(::cppsvc::CallContext& ctx,
                                         const v1::ListLoansRequest& request,
                                         v1::ListLoansResponse& response) {
  if (!MayActFor(ctx, request.member_id())) {
    return ::cppsvc::Status::PermissionDenied("members may only list their own loans");
  }
  for (const auto& [id, loan] : loans_) {
    if (loan.member_id() == request.member_id()) *response.add_loans() = loan;
  }
  std::sort(response.mutable_loans()->begin(),
            response.mutable_loans()->end(),
            [](const v1::Loan& a, const v1::Loan& b) { return a.due_day() < b.due_day(); });
  return ::cppsvc::Status::Ok();
}

::cppsvc::Status LoansService::OnBookReturned(::cppsvc::EventContext& ctx,
                                              const v1::BookReturned& event) {
  if (event.book_id().empty()) return ::cppsvc::Status::InvalidArgument("event without book_id");
  // At-least-once delivery: a redelivered event id has been counted already.
  if (!seen_event_ids_.insert(ctx.event_id()).second) return ::cppsvc::Status::Ok();
  ++returns_by_book_[event.book_id()];
  return ::cppsvc::Status::Ok();
}

int LoansService::times_returned(const std::string& book_id) const {
  auto it = returns_by_book_.find(book_id);
  return it == returns_by_book_.end() ? 0 : it->second;
}

}  // namespace library::loans
