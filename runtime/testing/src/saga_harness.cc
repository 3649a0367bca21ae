#include "cppsvc/testing/saga_harness.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <pqxx/pqxx>

#include "cppsvc/db/transaction.h"
#include "cppsvc/impl/repository.h"
#include "cppsvc/impl/sagas.h"

namespace cppsvc::testing {
namespace {

using google::protobuf::Message;
using sagas::InputKind;

std::unique_ptr<Message> NewEvent(std::string_view type) {
  const auto* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(type));
  if (d == nullptr) throw std::logic_error("event type not linked in: " + std::string(type));
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

void Run(db::Pool& pool, const std::function<Status(db::Tx&)>& body) {
  const Status s = db::RunInTransaction(pool, Clock::now() + std::chrono::seconds(30), body);
  if (!s.ok()) throw std::runtime_error("saga test transaction failed: " + s.message());
}

std::vector<std::string> Column(db::Pool& pool, const std::string& sql, const std::string& id) {
  std::vector<std::string> out;
  Run(pool, [&](db::Tx& tx) {
    out.clear();
    for (const auto& r : tx.exec_params(sql, id)) out.push_back(r[0].as<std::string>());
    return Status::Ok();
  });
  return out;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const std::string& s : v) out += (out.size() > 1 ? ", " : "") + s;
  return out + "]";
}

::testing::AssertionResult Expect(const std::string& what,
                                  const std::vector<std::string>& got,
                                  const std::vector<std::string>& want) {
  if (got == want) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": got " << Joined(got) << ", want " << Joined(want);
}

}  // namespace

SagaHarness::SagaHarness(sagas::Owner& owner, db::Pool& pool) : owner_(owner), pool_(pool) {}

void SagaHarness::InTransaction(const std::function<void(EventContext&)>& body) {
  Run(pool_, [&](db::Tx& tx) {
    EventContext ctx(impl::NewUuid(), "", 1, "");
    ctx.set_tx(&tx);
    body(ctx);
    return Status::Ok();
  });
}

std::string SagaHarness::Start() {
  std::string id = impl::NewUuid();
  Start(id);
  return id;
}

void SagaHarness::Start(const std::string& id) {
  InTransaction([&](EventContext& ctx) {
    if (Status s = owner_.Start(ctx, id); !s.ok()) throw std::runtime_error(s.message());
  });
}

void SagaHarness::Deliver(const std::string& id, InputKind kind, int step) {
  const sagas::StepSpec& s = owner_.spec().steps[static_cast<size_t>(step)];
  const std::string_view type = kind == InputKind::kSucceeded ? s.success_type
                                : kind == InputKind::kFailed  ? s.failure_type
                                                              : s.done_type;
  Deliver(id, kind, step, *NewEvent(type));
}

void SagaHarness::Deliver(const std::string& id, InputKind kind, int step, const Message& event) {
  InTransaction([&](EventContext& ctx) {
    if (Status st = owner_.Advance(ctx, id, {kind, step}, event); !st.ok()) {
      throw std::runtime_error(st.message());
    }
  });
}

void SagaHarness::Expire(const std::string& id) {
  Run(pool_, [&](db::Tx& tx) {
    tx.exec_params(
        "UPDATE cppsvc_sagas SET deadline = now() - interval '1 second' "
        "WHERE saga = $1 AND id = $2",
        std::string(owner_.spec().name),
        id);
    return Status::Ok();
  });
  owner_.SweepOnce(pool_, 1000);
}

std::string SagaHarness::State(const std::string& id) {
  const std::vector<std::string> rows =
      Column(pool_,
             "SELECT CASE WHEN status IN ('completed', 'aborted') THEN status "
             "ELSE status || ':' || step END FROM cppsvc_sagas WHERE id = $1",
             id);
  return rows.empty() ? "none" : rows[0];
}

std::vector<std::string> SagaHarness::Undos(const std::string& id) {
  std::vector<std::string> steps;
  Run(pool_, [&](db::Tx& tx) {
    steps.clear();
    for (const auto& r : tx.exec_params("SELECT payload FROM cppsvc_outbox WHERE event_type = $1 "
                                        "AND ordering_key = $2 ORDER BY seq",
                                        std::string(sagas::kUndoEventType),
                                        id)) {
      sagas::Undo undo;
      if (sagas::DecodeUndo(pqxx::binarystring(r[0]).str(), undo)) steps.push_back(undo.step);
    }
    return Status::Ok();
  });
  return steps;
}

std::vector<std::string> SagaHarness::EndEvents(const std::string& id) {
  std::vector<std::string> out;
  for (const std::string& type :
       Column(pool_,
              "SELECT event_type FROM cppsvc_outbox WHERE ordering_key = $1 ORDER BY seq",
              id)) {
    if (type == owner_.spec().completed_type || type == owner_.spec().aborted_type) {
      out.emplace_back(sagas::ShortName(type));
    }
  }
  return out;
}

void SagaHarness::AnswerUndos(const std::string& id) {
  const auto& steps = owner_.spec().steps;
  for (size_t answered = 0;;) {
    const std::vector<std::string> undos = Undos(id);
    if (answered == undos.size()) return;
    for (; answered < undos.size(); ++answered) {
      for (size_t j = 0; j < steps.size(); ++j) {
        if (steps[j].name == undos[answered])
          Deliver(id, InputKind::kCompensated, static_cast<int>(j));
      }
    }
  }
}

std::vector<std::string> SagaHarness::ExpectedUndos(int from) const {
  std::vector<std::string> out;
  for (int j = from; j >= 0; --j) {
    const sagas::StepSpec& s = owner_.spec().steps[static_cast<size_t>(j)];
    if (!s.done_type.empty()) out.emplace_back(s.name);
  }
  return out;
}

}  // namespace cppsvc::testing

namespace cppsvc::testing {
namespace {

std::vector<std::string> Ends(std::string_view type) {
  if (type.empty()) return {};
  return {std::string(sagas::ShortName(type))};
}

}  // namespace

::testing::AssertionResult SagaHarness::CompletesWhenEveryStepSucceeds() {
  const std::string id = Start();
  for (size_t i = 0; i < owner_.spec().steps.size(); ++i)
    Deliver(id, InputKind::kSucceeded, static_cast<int>(i));
  if (State(id) != "completed") return ::testing::AssertionFailure() << "state " << State(id);
  if (auto r = Expect("undos", Undos(id), {}); !r) return r;
  return Expect("end events", EndEvents(id), Ends(owner_.spec().completed_type));
}

::testing::AssertionResult SagaHarness::FailureAtEachStepUndoesTheStepsBefore() {
  const auto& steps = owner_.spec().steps;
  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    if (steps[static_cast<size_t>(k)].failure_type.empty()) continue;
    const std::string id = Start();
    for (int i = 0; i < k; ++i) Deliver(id, InputKind::kSucceeded, i);
    Deliver(id, InputKind::kFailed, k);
    AnswerUndos(id);
    const std::string at = "failure at step " + std::string(steps[static_cast<size_t>(k)].name);
    if (auto r = Expect(at + ": undos", Undos(id), ExpectedUndos(k - 1)); !r) return r;
    if (State(id) != "aborted")
      return ::testing::AssertionFailure() << at << ": state " << State(id);
    if (auto r = Expect(at + ": end events", EndEvents(id), Ends(owner_.spec().aborted_type)); !r)
      return r;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SagaHarness::TimeoutAtEachStepCompensates() {
  const auto& steps = owner_.spec().steps;
  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    const std::string id = Start();
    for (int i = 0; i < k; ++i) Deliver(id, InputKind::kSucceeded, i);
    Expire(id);
    AnswerUndos(id);
    const std::string at = "timeout at step " + std::string(steps[static_cast<size_t>(k)].name);
    if (auto r = Expect(at + ": undos", Undos(id), ExpectedUndos(k)); !r) return r;
    if (State(id) != "aborted")
      return ::testing::AssertionFailure() << at << ": state " << State(id);
    if (auto r = Expect(at + ": end events", EndEvents(id), Ends(owner_.spec().aborted_type)); !r)
      return r;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SagaHarness::EveryEventTwiceChangesNothing() {
  const auto& steps = owner_.spec().steps;
  const std::string id = Start();
  InTransaction([&](EventContext& ctx) { (void)owner_.Start(ctx, id); });
  for (size_t i = 0; i < steps.size(); ++i) {
    Deliver(id, InputKind::kSucceeded, static_cast<int>(i));
    Deliver(id, InputKind::kSucceeded, static_cast<int>(i));
  }
  if (State(id) != "completed") return ::testing::AssertionFailure() << "state " << State(id);
  if (auto r = Expect("end events", EndEvents(id), Ends(owner_.spec().completed_type)); !r)
    return r;
  // The last step that can fail, with every event (undo answers too) twice.
  for (int k = static_cast<int>(steps.size()) - 1; k >= 0; --k) {
    if (steps[static_cast<size_t>(k)].failure_type.empty()) continue;
    const std::string failed = Start();
    for (int i = 0; i < k; ++i) Deliver(failed, InputKind::kSucceeded, i);
    Deliver(failed, InputKind::kFailed, k);
    Deliver(failed, InputKind::kFailed, k);
    AnswerUndos(failed);
    for (int j = 0; j < k; ++j) Deliver(failed, InputKind::kCompensated, j);
    if (auto r = Expect("undos", Undos(failed), ExpectedUndos(k - 1)); !r) return r;
    return Expect("end events", EndEvents(failed), Ends(owner_.spec().aborted_type));
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SagaHarness::LateEventsChangeNothing() {
  const auto& steps = owner_.spec().steps;
  const int last = static_cast<int>(steps.size()) - 1;
  const std::string id = Start();
  for (int i = 0; i <= last; ++i) Deliver(id, InputKind::kSucceeded, i);
  if (!steps.back().failure_type.empty()) Deliver(id, InputKind::kFailed, last);
  Deliver(id, InputKind::kSucceeded, 0);
  if (State(id) != "completed") return ::testing::AssertionFailure() << "state " << State(id);
  if (owner_.spec().timeout.count() == 0) return ::testing::AssertionSuccess();
  // A success after its step was given up: already being undone.
  const std::string given_up = Start();
  Expire(given_up);
  const std::vector<std::string> undos = Undos(given_up);
  Deliver(given_up, InputKind::kSucceeded, 0);
  if (auto r = Expect("undos after a late success", Undos(given_up), undos); !r) return r;
  AnswerUndos(given_up);
  if (State(given_up) != "aborted")
    return ::testing::AssertionFailure() << "state " << State(given_up);
  return ::testing::AssertionSuccess();
}

StepHarness::StepHarness(std::vector<impl::SubscriptionRoute> routes, db::Pool& pool)
    : routes_(std::move(routes)), pool_(pool) {}

Status StepHarness::Deliver(std::string_view durable, const std::string& payload) {
  for (const impl::SubscriptionRoute& r : routes_) {
    if (r.durable != durable) continue;
    return db::RunInTransaction(pool_, Clock::now() + std::chrono::seconds(30), [&](db::Tx& tx) {
      EventContext ctx(impl::NewUuid(), std::string(r.subject), 1, "");
      ctx.set_tx(&tx);
      return r.handle(ctx, payload);
    });
  }
  return Status(StatusCode::kNotFound, "no route " + std::string(durable));
}

void StepHarness::AddStep(std::string step,
                          std::string saga,
                          std::string durable,
                          std::string undo_durable,
                          std::string in_type,
                          std::string key) {
  steps_[step] = {std::move(saga),
                  std::move(durable),
                  std::move(undo_durable),
                  std::move(in_type),
                  std::move(key)};
}

Status StepHarness::Step(const std::string& step, const std::string& id) {
  const StepRoutes& s = steps_.at(step);
  std::unique_ptr<Message> event = NewEvent(s.in_type);
  impl::SetSagaKey(*event, s.key, id);
  return Deliver(s.durable, event->SerializeAsString());
}

Status StepHarness::Undo(const std::string& step, const std::string& id) {
  const StepRoutes& s = steps_.at(step);
  return Deliver(s.undo_durable, sagas::EncodeUndo({s.saga, step, id, "failed"}));
}

std::string StepHarness::Emitted(const std::string& id) {
  std::string out;
  for (const std::string& type :
       Column(pool_,
              "SELECT event_type FROM cppsvc_outbox WHERE ordering_key = $1 ORDER BY seq",
              id)) {
    out += (out.empty() ? "" : " ") + std::string(sagas::ShortName(type));
  }
  return out;
}

}  // namespace cppsvc::testing
