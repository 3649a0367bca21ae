// The checker behind model::Check, private to model/. Its checks live in one
// file per concern (check_<concern>.cc); this header holds what they share:
// indexes over the whole model, built once, and the reporting helpers that
// keep diagnostics to the files being generated.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "diag/diagnostics.h"
#include "model/model.h"
#include "model/option_text.h"

namespace cppsvc::model::checks {

// 'name', the way every message quotes an element.
std::string Quote(const std::string& s);

// A SQL identifier of a table, column or index, and where it comes from.
struct SqlName {
  std::string name;
  bool given = false;  // written in the contract, not derived
  std::string option;  // what sets it, e.g. "name"
};

// The longest deadline an rpc may have: 1 hour.
inline constexpr uint32_t kMaxTimeoutMs = 60 * 60 * 1000;
// Runs of a handler again after version conflicts: enough for a row that a
// few dozen callers change at once; beyond, lock the row instead.
inline constexpr uint32_t kMaxVersionConflictRetries = 20;

// Lowercase snake_case: a letter, then lowercase letters, digits and '_'.
bool IsSnakeCaseName(const std::string& name);

// Owner fields and idempotency keys hold one string.
bool SingularString(const Field& f);

class Checker {
 public:
  Checker(const Model& model, diag::Diagnostics& diags);

  // Runs every check (check.cc), in a fixed order.
  void Run();

 private:
  // checker.cc: indexes, reporting, references shared by several concerns.
  void Index();
  // Where `path` is written inside the option starting at `option` (the
  // longest prefix of it the source holds), or `option` itself when the
  // source was not read.
  Span At(const Span& option, const std::vector<OptionKey>& path) const;
  bool Reported(const Span& span) const;
  void Error(const Span& span, std::string message);
  void Warning(const Span& span, std::string message);
  bool Publishes(const std::string& service, const std::string& event) const;
  bool CheckEventRef(const Span& span, const std::string& what, const std::string& event);
  std::string SuggestEvent(const std::string& event) const;
  void CheckRoleRef(const Span& span, const std::string& what, const std::string& role);
  const Field* FieldPath(const Message& root, const std::string& path, std::string& why) const;

  // check_cpp_names.cc: names protoc's and gRPC's C++ output cannot spell.
  void CheckCppNames(const File& file);
  void CheckPackageName(const File& file);
  void CheckMethodCppNames(const Service& s, const Method& m);
  void CheckGeneratedClassNames();

  // check_rbac.cc: roles, access rules, ownership.
  void CheckRoles();
  void CheckRole(const Role& role);
  void CheckRoleCycles();
  void CheckAccessRule(const Service& s,
                       const Method& m,
                       const Span& span,
                       const std::string& what);
  void CheckOwnerField(const Method& m,
                       const Message& req,
                       const Message& resp,
                       const Span& span,
                       const std::string& what);

  // check_messages.cc: what a message is, and its fields' validation rules.
  void CheckMessage(const Message& m);
  void CheckFieldOptions(const Message& m, const Field& f);
  void CheckValidationKinds(const Field& f, const Span& span, const std::string& what);
  void CheckValidationBounds(const ValidationRules& v, const Span& span, const std::string& what);
  void CheckNumericRange(const ValidationRules& v, const Span& span, const std::string& what);
  void CheckPattern(const Span& span, const std::string& what, const ValidationRules& v);
  void CheckRequiredCycles();

  // check_tables.cc: one table message.
  void CheckTable(const Message& m);
  const Field* StoredField(const Message& m,
                           const Span& span,
                           const std::string& what,
                           const std::string& kind,
                           const std::string& name);
  void CheckPrimaryKey(const Message& m, const std::string& what);
  void CheckIndexes(const Message& m, const std::string& what);
  void CheckTextSearchIndex(const Message& m,
                            const model::Index& idx,
                            const std::vector<OptionKey>& at,
                            const std::string& what);
  void CheckVersionField(const Message& m, const std::string& what);
  void CheckDropColumns(const Message& m, const std::string& what);
  void CheckColumns(const Message& m);
  void CheckSqlName(const Span& span,
                    const std::string& what,
                    const std::string& kind,
                    const SqlName& name);
  void CheckColumnOptions(const Field& f, const Column& c, const std::string& what);
  void CheckColumnType(const Column& c, const std::string& type, const std::string& what);
  void CheckTableFieldOptions(const Field& f, const Span& span, const std::string& what);

  // check_storage.cc: a file's tables and database, together.
  void CheckStorage(const File& file);
  void CheckIndexNamesUnique(const File& file);
  void CheckDropTables(const File& file);
  const Service* DatabaseOwner(const File& file);
  void CheckMigrationsDir(const File& file, const Service& owner);

  // check_events.cc: events and subscriptions.
  void CheckEvent(const Message& m);
  void CheckEventKey(const Message& m);
  void CheckSubscriptions(const Service& s, const Span& span, const std::string& what);

  // check_services.cc: a service and its rpcs.
  void CheckService(const Service& s);
  void CheckHandlerNames(const Service& s, const Span& span, const std::string& what);
  void CheckMethod(const Service& s, const Method& m);
  void CheckStreaming(const Method& m, const std::string& what);
  void CheckIdempotencyKey(const Method& m,
                           const Message& req,
                           const Span& span,
                           const std::string& what);
  void CheckRetry(const Method& m, const Span& span, const std::string& what);
  static std::string NoOutbox(const Service& s);
  void CheckVersionConflictRetries(const Method& m, const Span& span, const std::string& what);
  void CheckPublishesNeedDatabase(const Service& s, const Span& span, const std::string& what);
  void CheckNeedsDatabase(const Service& s,
                          const Method& m,
                          const Span& span,
                          const std::string& what);

  // check_resilience.cc: retry policies, rate limits, circuit breakers, timeouts.
  void CheckServiceResilience(const Service& s, const Span& span, const std::string& what);
  void CheckRetryPolicy(const RetryPolicy& p,
                        const Span& span,
                        const std::string& key,
                        const std::string& what);
  void CheckRetryCode(const std::string& code, const Span& span, const std::string& what);
  void CheckRateLimit(const RateLimit& r, const Span& span, const std::string& what);
  void CheckCircuitBreaker(const CircuitBreaker& b, const Span& span, const std::string& what);
  void CheckTimeout(uint32_t timeout_ms, const Span& span, const std::string& what);

  // check_nats.cc: short names, streams and queue groups.
  void CheckNatsNames(const Service& s, const Span& span, const std::string& what);
  void CheckStreamsUnique();

  // check_http.cc: an rpc's HTTP mapping.
  void CheckHttp(const Service& s,
                 const Method& m,
                 const Message& req,
                 const Message& resp,
                 const Span& span,
                 const std::string& what);
  void CheckHttpPath(const Service& s,
                     const Method& m,
                     const Message& req,
                     const Span& span,
                     const std::string& what);
  void CheckHttpBodies(const HttpRoute& h,
                       const Message& req,
                       const Message& resp,
                       const Span& span,
                       const std::string& what);

  // check_sagas.cc: a saga's references and the graph of its steps.
  void CheckSaga(const Saga& saga);
  bool CheckSagaOwner(const Saga& saga, const std::string& what);
  void CheckSagaStep(const Saga& saga, bool owner_ok, const SagaStep& step, size_t i);
  Span SagaAt(const Saga& saga, const std::string& key) const;
  Span SagaEventAt(const Saga& saga, const std::string& event) const;
  Span StepAt(const Saga& saga,
              size_t i,
              const std::string& key = "",
              const std::string& sub = "") const;
  void CheckStepEventsPublished(const Saga& saga, size_t i, const std::string& what);
  void CheckOwnerTracksStep(const Saga& saga, const SagaStep& step, const std::string& what);
  void CheckStepOrder(const Saga& saga, const SagaStep& step, size_t i, const std::string& what);
  void CheckStepEventsDistinct(const Saga& saga, size_t i, const std::string& what);
  void CheckSagaKeys(const Saga& saga);
  void CheckSagaDatabase(const Span& span, const std::string& what, const std::string& service);
  void CheckTimeoutCompensations(const Saga& saga);
  void CheckCompensations(const Saga& saga);
  void CheckSagaGraph(const Saga& saga);
  bool CheckServiceRef(const Span& span, const std::string& what, const std::string& name);
  void CheckPublishedBy(const Span& span,
                        const std::string& what,
                        const std::string& event,
                        const std::string& service);

  // check_uniqueness.cc: names, ports, subjects and tables across the system.
  void CheckGlobalUniqueness();
  void CheckServicesUnique();
  void CheckPorts(const Service& s,
                  const Span& span,
                  const std::string& what,
                  std::map<uint32_t, const Service*>& ports);
  void CheckEventsAndTablesUnique();
  void CheckSagasUnique();

  const Model& model_;
  diag::Diagnostics& diags_;
  std::set<std::string> generated_files_;
  std::vector<std::string> role_names_, service_names_, event_names_;
  std::map<std::string, const Role*> roles_;                 // the first declaration of each name
  std::map<std::string, std::set<std::string>> publishers_;  // event -> services
  std::map<std::string, std::string> routes_;                // "VERB key" -> rpc
  std::map<std::string, const File*> migration_dirs_;
  mutable std::map<std::string, SourceText> texts_;  // model_.sources, indexed on first use
};

}  // namespace cppsvc::model::checks
