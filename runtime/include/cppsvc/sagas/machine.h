// The state machine of a saga, as a pure function: what an instance does on
// each event of its participants, on a timeout and on an abort. The owner's
// generated code stores the state (sagas/owner.h); the generated diagram in
// <file>.cppsvc.md is checked against Transitions() by the contract tests.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::sagas {

// One step of a saga, as the contract declares it.
struct StepSpec {
  std::string_view name;          // e.g. "reserve_stock"
  std::string_view participant;   // short service name
  std::string_view success_type;  // full proto names of its events
  std::string_view failure_type;  // "" = the step cannot fail
  std::string_view done_type;     // the compensation's done event; "" = no compensation
  std::string_view undo_subject;  // where the owner sends its undo commands
};

// A saga of the contract; generated as a constant of the owner's server.
struct SagaSpec {
  std::string_view name;
  std::string_view owner;
  std::string_view trigger_type;
  std::string_view completed_type;       // "" = none
  std::string_view aborted_type;         // "" = none
  std::chrono::milliseconds timeout{0};  // 0 = none
  std::vector<StepSpec> steps;
};

// Stored as cppsvc_sagas.status. "aborted" is the compensated end state,
// named like the contract's aborted_event.
enum class SagaStatus { kRunning, kCompensating, kCompleted, kAborted };
std::string_view StatusName(SagaStatus status);
bool ParseStatus(std::string_view name, SagaStatus& status);

// Why an instance stopped running forward: its current step failed, its
// deadline passed, or the owner aborted it.
enum class Cause { kNone, kFailed, kTimedOut, kAborted };
std::string_view CauseName(Cause cause);
bool ParseCause(std::string_view name, Cause& cause);

struct State {
  SagaStatus status = SagaStatus::kRunning;
  int step = 0;      // running: the current step; compensating: the one being undone
  int stopped = -1;  // the step that was running when the instance stopped going forward
  Cause cause = Cause::kNone;
  bool operator==(const State&) const = default;
};

enum class InputKind { kSucceeded, kFailed, kCompensated, kTimedOut, kAborted };

struct Input {
  InputKind kind;
  int step = -1;  // kSucceeded, kFailed, kCompensated: the step whose event arrived
};

// What to do on an input. `ignored` explains an input that changes nothing
// (a duplicate, an event for a finished instance, a late one).
struct Decision {
  State next;
  bool changed = false;
  int compensate = -1;     // ask the participant of this step to undo it
  bool completed = false;  // entered the completed end state
  bool aborted = false;    // entered the aborted end state
  std::string_view ignored;
};

Decision Apply(const SagaSpec& spec, const State& state, const Input& input);

// A state's name in diagrams and in `sagas list`: the running step's name,
// "undo_<step>" while compensating it, "completed" or "aborted".
std::string StateName(const SagaSpec& spec, const State& state);

// Every transition Apply can make, with the event's short name (or
// "timeout", "abort") as the label; the start ("[*]" on the trigger) and the
// end events ("[*]" after completed/aborted) included. Ordered as in the
// generated diagram.
struct Transition {
  std::string from;
  std::string to;
  std::string label;
  bool operator==(const Transition&) const = default;
};
std::vector<Transition> Transitions(const SagaSpec& spec);

// The short name of a full proto name: "commerce.orders.v1.OrderCreated" -> "OrderCreated".
std::string_view ShortName(std::string_view full_name);

}  // namespace cppsvc::sagas
