// Handlers of evtest.consumer.v1.ConsumerService for the event tests'
// service binary. OnTick inserts one effect row per application in the
// consumer's transaction (with the inbox row). Configuration, read once:
//   CONSUMER_REPLICA    recorded in every effect row (which replica applied it)
//   CONSUMER_FAIL_SEQ   the handler fails for the Tick of this seq (a poison
//                       event); each attempt is recorded in `attempts` on a
//                       connection of its own, so it survives the rollback
//   CONSUMER_HANDLER_DELAY_US  the handler sleeps this long per event first
//                       (keeps fetched batches in flight long enough to be
//                       caught by a kill)
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "cppsvc/register.h"
#include "evtest/consumer/v1/consumer.cppsvc.h"

namespace evtest_service {

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

class Consumer final : public evtest::consumer::v1::ConsumerServiceBase {
 public:
  Consumer()
      : replica_(Env("CONSUMER_REPLICA")),
        fail_seq_(Env("CONSUMER_FAIL_SEQ").empty() ? -1 : std::stoll(Env("CONSUMER_FAIL_SEQ"))),
        database_url_(Env("CONSUMER_DATABASE_URL")),
        delay_(std::chrono::microseconds(Env("CONSUMER_HANDLER_DELAY_US").empty()
                                             ? 0
                                             : std::stoll(Env("CONSUMER_HANDLER_DELAY_US")))) {}

  cppsvc::Status OnTick(cppsvc::EventContext& ctx,
                        const evtest::producer::v1::Tick& event) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (event.seq() == fail_seq_) {
      RecordAttempt(ctx, event);
      return cppsvc::Status::Internal("poison: seq " + std::to_string(event.seq()) +
                                      " fails on purpose");
    }
    ctx.tx().exec_params(
        "INSERT INTO effects (id, event_id, seq, replica, delivery) "
        "VALUES (gen_random_uuid(), $1, $2, $3, $4)",
        ctx.event_id(),
        event.seq(),
        replica_,
        static_cast<int64_t>(ctx.delivery_attempt()));
    return cppsvc::Status::Ok();
  }

  cppsvc::Status Count(cppsvc::CallContext& ctx,
                       const evtest::consumer::v1::CountRequest&,
                       evtest::consumer::v1::CountResponse& response) override {
    response.set_effects(ctx.tx().exec1("SELECT count(*) FROM effects")[0].as<int64_t>());
    return cppsvc::Status::Ok();
  }

 private:
  void RecordAttempt(const cppsvc::EventContext& ctx, const evtest::producer::v1::Tick& event) {
    std::lock_guard lock(mu_);
    if (!attempts_ || !attempts_->is_open()) {
      attempts_ = std::make_unique<pqxx::connection>(database_url_);
    }
    pqxx::nontransaction tx(*attempts_);
    tx.exec_params(
        "INSERT INTO attempts (id, event_id, seq, delivery) VALUES (gen_random_uuid(), $1, $2, $3)",
        ctx.event_id(),
        event.seq(),
        static_cast<int64_t>(ctx.delivery_attempt()));
  }

  const std::string replica_;
  const int64_t fail_seq_;
  const std::string database_url_;
  const std::chrono::microseconds delay_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> attempts_;
};

}  // namespace evtest_service

CPPSVC_REGISTER_HANDLERS(evtest::consumer::v1::ConsumerServiceBase, evtest_service::Consumer);
