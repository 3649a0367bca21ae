// Drives the hand-written LoansService through the generated base class, the
// way the generated server would, and checks the generated documentation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "library/loans/v1/loans.cppsvc.h"
#include "library/loans/v1/loans.cppsvc.migrations.h"
#include "loans_service.h"

namespace {

using library::loans::LoansService;
using library::loans::v1::LoansServiceBase;
namespace v1 = library::loans::v1;

static_assert(std::is_abstract_v<LoansServiceBase>,
              "the generated base must leave every handler to the subclass");
static_assert(std::is_base_of_v<::cppsvc::impl::ServiceBase, LoansServiceBase>);
static_assert(LoansServiceBase::kServiceName == "loans");
static_assert(LoansServiceBase::kFullName == "library.loans.v1.LoansService");

constexpr std::int64_t kToday = 20000;

::cppsvc::CallContext As(std::string subject, std::string role) {
  return ::cppsvc::CallContext(::cppsvc::Caller{std::move(subject), {std::move(role)}, "jti-1"},
                               ::cppsvc::Clock::now() + std::chrono::seconds(5),
                               "library.loans.v1.LoansService/Test",
                               "trace-1");
}

v1::BorrowBookRequest Borrow(std::string member,
                             std::string book,
                             int days,
                             std::string request_id = "") {
  v1::BorrowBookRequest r;
  r.set_member_id(std::move(member));
  r.set_book_id(std::move(book));
  r.set_days(days);
  r.set_request_id(std::move(request_id));
  return r;
}

class LoansServiceTest : public ::testing::Test {
 protected:
  LoansService impl_{kToday};
  LoansServiceBase* service_ = &impl_;  // every call goes through the generated interface
};

TEST_F(LoansServiceTest, BorrowCreatesLoanAndPublishesEvent) {
  auto ctx = As("ann", "member");
  v1::BorrowBookResponse resp;
  ::cppsvc::Status st = service_->BorrowBook(ctx, Borrow("ann", "moby-dick", 14), resp);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(resp.loan().loan_id(), "loan-1");
  EXPECT_EQ(resp.loan().member_id(), "ann");
  EXPECT_EQ(resp.loan().book_id(), "moby-dick");
  EXPECT_EQ(resp.loan().due_day(), kToday + 14);
  EXPECT_EQ(resp.loan().borrowed_at().seconds(), kToday * 86400);

  ASSERT_EQ(impl_.borrowed_events().size(), 1u);
  EXPECT_EQ(impl_.borrowed_events()[0].loan_id(), "loan-1");
  EXPECT_EQ(impl_.borrowed_events()[0].book_id(), "moby-dick");
}

TEST_F(LoansServiceTest, BookCannotBeLentTwice) {
  auto ann = As("ann", "member");
  auto bob = As("bob", "member");
  v1::BorrowBookResponse first, second;
  ASSERT_TRUE(service_->BorrowBook(ann, Borrow("ann", "ulysses", 7), first).ok());
  ::cppsvc::Status st = service_->BorrowBook(bob, Borrow("bob", "ulysses", 7), second);
  EXPECT_EQ(st.code(), ::cppsvc::StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_FALSE(second.has_loan());
  EXPECT_EQ(impl_.borrowed_events().size(), 1u);
}

TEST_F(LoansServiceTest, RepeatedRequestIdReturnsTheFirstLoan) {
  auto ctx = As("ann", "member");
  v1::BorrowBookResponse first, again;
  ASSERT_TRUE(service_->BorrowBook(ctx, Borrow("ann", "emma", 7, "req-42"), first).ok());
  ::cppsvc::Status st = service_->BorrowBook(ctx, Borrow("ann", "emma", 7, "req-42"), again);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(again.loan().loan_id(), first.loan().loan_id());
  EXPECT_EQ(impl_.borrowed_events().size(), 1u);
}

TEST_F(LoansServiceTest, BorrowValidatesAndChecksOwnership) {
  auto ann = As("ann", "member");
  v1::BorrowBookResponse resp;
  EXPECT_EQ(service_->BorrowBook(ann, Borrow("ann", "", 7), resp).code(),
            ::cppsvc::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->BorrowBook(ann, Borrow("ann", "dune", 0), resp).code(),
            ::cppsvc::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->BorrowBook(ann, Borrow("bob", "dune", 7), resp).code(),
            ::cppsvc::StatusCode::kPermissionDenied);

  auto librarian = As("lib-1", "librarian");
  ::cppsvc::Status st = service_->BorrowBook(librarian, Borrow("bob", "dune", 7), resp);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(resp.loan().member_id(), "bob");
}

TEST_F(LoansServiceTest, ListLoansShowsOnlyTheMembersLoansByDueDay) {
  auto ann = As("ann", "member");
  auto bob = As("bob", "member");
  v1::BorrowBookResponse r;
  ASSERT_TRUE(service_->BorrowBook(ann, Borrow("ann", "b-late", 30), r).ok());
  ASSERT_TRUE(service_->BorrowBook(bob, Borrow("bob", "b-bob", 7), r).ok());
  ASSERT_TRUE(service_->BorrowBook(ann, Borrow("ann", "b-soon", 3), r).ok());

  v1::ListLoansRequest req;
  req.set_member_id("ann");
  v1::ListLoansResponse list;
  ASSERT_TRUE(service_->ListLoans(ann, req, list).ok());
  ASSERT_EQ(list.loans_size(), 2);
  EXPECT_EQ(list.loans(0).book_id(), "b-soon");
  EXPECT_EQ(list.loans(1).book_id(), "b-late");

  v1::ListLoansResponse denied;
  EXPECT_EQ(service_->ListLoans(bob, req, denied).code(), ::cppsvc::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.loans_size(), 0);
}

TEST_F(LoansServiceTest, ReturnEndsTheLoanAndFreesTheBook) {
  auto ann = As("ann", "member");
  auto librarian = As("lib-1", "librarian");
  v1::BorrowBookResponse borrowed;
  ASSERT_TRUE(service_->BorrowBook(ann, Borrow("ann", "hamlet", 7), borrowed).ok());

  v1::ReturnBookRequest ret;
  ret.set_loan_id(borrowed.loan().loan_id());
  v1::ReturnBookResponse returned;
  ::cppsvc::Status st = service_->ReturnBook(librarian, ret, returned);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(returned.loan().book_id(), "hamlet");
  ASSERT_EQ(impl_.returned_events().size(), 1u);
  EXPECT_EQ(impl_.returned_events()[0].loan_id(), borrowed.loan().loan_id());

  v1::ReturnBookResponse again;
  EXPECT_EQ(service_->ReturnBook(librarian, ret, again).code(), ::cppsvc::StatusCode::kNotFound);

  v1::ListLoansRequest req;
  req.set_member_id("ann");
  v1::ListLoansResponse list;
  ASSERT_TRUE(service_->ListLoans(ann, req, list).ok());
  EXPECT_EQ(list.loans_size(), 0);

  v1::BorrowBookResponse reborrowed;
  EXPECT_TRUE(service_->BorrowBook(ann, Borrow("ann", "hamlet", 7), reborrowed).ok());
}

TEST_F(LoansServiceTest, BookReturnedHandlerIsIdempotentPerEventId) {
  v1::BookReturned event;
  event.set_loan_id("loan-9");
  event.set_member_id("ann");
  event.set_book_id("hamlet");

  ::cppsvc::EventContext first("evt-1", "library.loans.returned", 1, "trace-1");
  ::cppsvc::EventContext redelivery("evt-1", "library.loans.returned", 2, "trace-1");
  ::cppsvc::EventContext second("evt-2", "library.loans.returned", 1, "trace-2");
  ASSERT_TRUE(service_->OnBookReturned(first, event).ok());
  ASSERT_TRUE(service_->OnBookReturned(redelivery, event).ok());
  ASSERT_TRUE(service_->OnBookReturned(second, event).ok());
  EXPECT_EQ(impl_.times_returned("hamlet"), 2);
  EXPECT_EQ(impl_.times_returned("emma"), 0);

  v1::BookReturned empty;
  ::cppsvc::EventContext third("evt-3", "library.loans.returned", 1, "trace-3");
  EXPECT_EQ(service_->OnBookReturned(third, empty).code(), ::cppsvc::StatusCode::kInvalidArgument);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(GeneratedDoc, ExistsAndDescribesTheService) {
  const std::filesystem::path doc = LOANS_DOC_FILE;
  ASSERT_TRUE(std::filesystem::is_regular_file(doc)) << doc << " was not generated";
  const std::string md = ReadFile(doc);
  EXPECT_NE(md.find("LoansService"), std::string::npos) << md;
  EXPECT_NE(md.find("BorrowBook"), std::string::npos) << md;
  EXPECT_NE(md.find("library.loans.borrowed"), std::string::npos) << md;
  EXPECT_NE(md.find("OnBookReturned"), std::string::npos) << md;
}

// The SQL is written once, as .sql files; the build embeds them unchanged
// (a changed byte would change the checksum applied databases recorded).
TEST(GeneratedMigrations, EmbedTheSqlFilesByteForByte) {
  const std::vector<::cppsvc::db::Migration>& migrations = v1::LoansMigrations();
  ASSERT_FALSE(migrations.empty());
  for (const ::cppsvc::db::Migration& m : migrations) {
    const std::filesystem::path file =
        std::filesystem::path(LOANS_MIGRATIONS_DIR) / (m.name + ".sql");
    ASSERT_TRUE(std::filesystem::is_regular_file(file)) << file << " was not generated";
    EXPECT_EQ(m.sql, ReadFile(file)) << m.name;
  }
}

}  // namespace
