// Handlers of ledger.v1.LedgerService for the persistence tests' service
// binary. Every call runs in the transaction the runtime opened for it
// (ctx.tx()): the entry written through the generated repository, the
// outbox row and the idempotency record commit together, or not at all.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>

#include "cppsvc/register.h"
#include "ledger/v1/ledger.cppsvc.h"
#include "ledger/v1/ledger.cppsvc.repo.h"

namespace ledger_test {

namespace {

// A random UUID (version 4) for the outbox row.
std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char text[37];
  std::snprintf(text,
                sizeof(text),
                "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

// Read, change, write back with the version read: the pattern that
// version_conflict_retries makes safe under concurrent calls.
cppsvc::Status AddToEntry(cppsvc::CallContext& ctx,
                          const ledger::v1::AddRequest& request,
                          ledger::v1::AddResponse& response) {
  ledger::v1::EntryRepository entries(ctx.tx());
  int64_t version = 0;
  ledger::v1::Entry entry = entries.Get(request.id(), &version);
  std::this_thread::sleep_for(std::chrono::milliseconds(request.pause_ms()));
  entry.set_amount(entry.amount() + request.delta());
  response.set_version(entries.Update(entry, version));
  response.set_amount(entry.amount());
  return cppsvc::Status::Ok();
}

}  // namespace

class LedgerService final : public ledger::v1::LedgerServiceBase {
 public:
  cppsvc::Status Post(cppsvc::CallContext& ctx,
                      const ledger::v1::PostRequest& request,
                      ledger::v1::PostResponse& response) override {
    ledger::v1::EntryRepository entries(ctx.tx());
    ledger::v1::Entry entry;
    entry.set_account(request.account());
    entry.set_amount(request.amount());
    entry.set_note(request.request_id());
    entries.Insert(entry);  // fills id and created_at

    // The event of the entry, with plain SQL until the outbox has a typed API.
    const std::string event_id = NewUuid();
    const std::string payload = entry.SerializeAsString();
    ctx.tx().exec_params(
        "INSERT INTO cppsvc_outbox (id, subject, event_type, payload) VALUES ($1::uuid, $2, $3, "
        "$4)",
        event_id,
        std::string("ledger.entries.posted"),
        std::string("ledger.v1.Entry"),
        pqxx::binarystring(payload.data(), payload.size()));

    if (request.fail_after_write()) {
      return cppsvc::Status::FailedPrecondition(
          "fail_after_write: both writes done, the call fails on purpose");
    }
    *response.mutable_entry() = entry;
    response.set_version(1);
    response.set_event_id(event_id);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Get(cppsvc::CallContext& ctx,
                     const ledger::v1::GetRequest& request,
                     ledger::v1::GetResponse& response) override {
    ledger::v1::EntryRepository entries(ctx.tx());
    int64_t version = 0;
    *response.mutable_entry() = entries.Get(request.id(), &version);  // NotFound -> NOT_FOUND
    response.set_version(version);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Update(cppsvc::CallContext& ctx,
                        const ledger::v1::UpdateRequest& request,
                        ledger::v1::UpdateResponse& response) override {
    ledger::v1::EntryRepository entries(ctx.tx());
    ledger::v1::Entry entry = entries.Get(request.id());
    entry.set_amount(request.amount());
    // VersionConflict -> ABORTED when another call moved the version.
    const int64_t version = entries.Update(entry, request.expected_version());
    *response.mutable_entry() = entry;
    response.set_version(version);
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Add(cppsvc::CallContext& ctx,
                     const ledger::v1::AddRequest& request,
                     ledger::v1::AddResponse& response) override {
    return AddToEntry(ctx, request, response);
  }

  cppsvc::Status AddOnce(cppsvc::CallContext& ctx,
                         const ledger::v1::AddRequest& request,
                         ledger::v1::AddResponse& response) override {
    return AddToEntry(ctx, request, response);
  }

  cppsvc::Status Stats(cppsvc::CallContext& ctx,
                       const ledger::v1::StatsRequest&,
                       ledger::v1::StatsResponse& response) override {
    const pqxx::row counts = ctx.tx().exec1(
        "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM cppsvc_outbox)");
    response.set_entries(counts[0].as<int64_t>());
    response.set_outbox(counts[1].as<int64_t>());
    return cppsvc::Status::Ok();
  }
};

}  // namespace ledger_test

CPPSVC_REGISTER_HANDLERS(ledger::v1::LedgerServiceBase, ledger_test::LedgerService);
