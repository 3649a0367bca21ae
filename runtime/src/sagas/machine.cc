#include "cppsvc/sagas/machine.h"

#include <array>

namespace cppsvc::sagas {
namespace {

constexpr std::array<std::string_view, 4> kStatusNames = {"running",
                                                          "compensating",
                                                          "completed",
                                                          "aborted"};
constexpr std::array<std::string_view, 4> kCauseNames = {"", "failed", "timed_out", "aborted"};

bool Compensable(const SagaSpec& spec, int step) {
  return !spec.steps[static_cast<size_t>(step)].done_type.empty();
}

// The last step at or before `from` that has a compensation, or -1.
int LastCompensable(const SagaSpec& spec, int from) {
  for (int j = from; j >= 0; --j) {
    if (Compensable(spec, j)) return j;
  }
  return -1;
}

bool Abortable(const SagaSpec& spec) {
  for (const StepSpec& s : spec.steps) {
    if (s.done_type.empty()) return false;
  }
  return true;
}

// Undo step `j` next, or end aborted when j < 0.
Decision UndoFrom(State state, int j) {
  Decision d;
  d.changed = true;
  if (j < 0) {
    state.status = SagaStatus::kAborted;
    d.aborted = true;
  } else {
    state.status = SagaStatus::kCompensating;
    state.step = j;
    d.compensate = j;
  }
  d.next = state;
  return d;
}

Decision Ignore(const State& state, std::string_view why) {
  Decision d;
  d.next = state;
  d.ignored = why;
  return d;
}

// Stops going forward at the current step for `cause`: a failed step needs
// no undoing; a timed-out or aborted one may have run (or still run), so it
// is undone too (its participant absorbs an undo that comes first).
Decision Stop(const SagaSpec& spec, State state, Cause cause) {
  state.stopped = state.step;
  state.cause = cause;
  int from = cause == Cause::kFailed ? state.step - 1 : state.step;
  return UndoFrom(state, LastCompensable(spec, from));
}

Decision Running(const SagaSpec& spec, State state, const Input& in) {
  // A later step's outcome before the current step's success: that step's
  // participant ran on the success event of the step before it (the steps
  // run in order), so every step up to it succeeded; the instance moves as
  // if those successes had come first (each a move of the machine).
  if ((in.kind == InputKind::kSucceeded || in.kind == InputKind::kFailed) && in.step > state.step &&
      in.step < static_cast<int>(spec.steps.size())) {
    state.step = in.step;
  }
  switch (in.kind) {
    case InputKind::kSucceeded:
      if (in.step != state.step) return Ignore(state, "duplicate");
      if (state.step + 1 < static_cast<int>(spec.steps.size())) {
        ++state.step;
        return Decision{state, true, -1, false, false, {}};
      }
      state.status = SagaStatus::kCompleted;
      return Decision{state, true, -1, true, false, {}};
    case InputKind::kFailed:
      if (in.step != state.step) return Ignore(state, "not the current step");
      return Stop(spec, state, Cause::kFailed);
    case InputKind::kTimedOut:
      return Stop(spec, state, Cause::kTimedOut);
    case InputKind::kAborted:
      if (!Abortable(spec)) return Ignore(state, "a step has no compensation");
      return Stop(spec, state, Cause::kAborted);
    case InputKind::kCompensated:
      break;
  }
  return Ignore(state, "not compensating");
}

Decision Compensating(const SagaSpec& spec, State state, const Input& in) {
  if (in.kind == InputKind::kCompensated) {
    if (in.step != state.step) return Ignore(state, "duplicate");
    return UndoFrom(state, LastCompensable(spec, state.step - 1));
  }
  if (in.kind == InputKind::kSucceeded || in.kind == InputKind::kFailed) {
    return Ignore(state, in.step >= state.stopped ? "late" : "duplicate");
  }
  return Ignore(state, "already compensating");
}

std::string Target(const SagaSpec& spec, int j) {
  return j < 0 ? "aborted" : "undo_" + std::string(spec.steps[static_cast<size_t>(j)].name);
}

void AddStepTransitions(const SagaSpec& spec, int i, std::vector<Transition>& out) {
  const StepSpec& s = spec.steps[static_cast<size_t>(i)];
  bool last = i + 1 == static_cast<int>(spec.steps.size());
  std::string from(s.name);
  out.push_back({from,
                 last ? "completed" : std::string(spec.steps[i + 1].name),
                 std::string(ShortName(s.success_type))});
  if (!s.failure_type.empty()) {
    out.push_back(
        {from, Target(spec, LastCompensable(spec, i - 1)), std::string(ShortName(s.failure_type))});
  }
  if (spec.timeout.count() > 0)
    out.push_back({from, Target(spec, LastCompensable(spec, i)), "timeout"});
  if (Abortable(spec)) out.push_back({from, Target(spec, i), "abort"});
}

}  // namespace

std::string_view StatusName(SagaStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

bool ParseStatus(std::string_view name, SagaStatus& status) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) {
      status = static_cast<SagaStatus>(i);
      return true;
    }
  }
  return false;
}

std::string_view CauseName(Cause cause) {
  return kCauseNames[static_cast<size_t>(cause)];
}

bool ParseCause(std::string_view name, Cause& cause) {
  for (size_t i = 0; i < kCauseNames.size(); ++i) {
    if (kCauseNames[i] == name) {
      cause = static_cast<Cause>(i);
      return true;
    }
  }
  return false;
}

Decision Apply(const SagaSpec& spec, const State& state, const Input& input) {
  switch (state.status) {
    case SagaStatus::kRunning:
      return Running(spec, state, input);
    case SagaStatus::kCompensating:
      return Compensating(spec, state, input);
    default:
      return Ignore(state, "finished");
  }
}

std::string StateName(const SagaSpec& spec, const State& state) {
  switch (state.status) {
    case SagaStatus::kRunning:
      return std::string(spec.steps[static_cast<size_t>(state.step)].name);
    case SagaStatus::kCompensating:
      return Target(spec, state.step);
    default:
      return std::string(StatusName(state.status));
  }
}

std::vector<Transition> Transitions(const SagaSpec& spec) {
  std::vector<Transition> out;
  if (spec.steps.empty()) return out;
  out.push_back(
      {"[*]", std::string(spec.steps[0].name), std::string(ShortName(spec.trigger_type))});
  for (int i = 0; i < static_cast<int>(spec.steps.size()); ++i) AddStepTransitions(spec, i, out);
  for (int j = static_cast<int>(spec.steps.size()) - 1; j >= 0; --j) {
    const StepSpec& s = spec.steps[static_cast<size_t>(j)];
    if (s.done_type.empty()) continue;
    out.push_back({Target(spec, j),
                   Target(spec, LastCompensable(spec, j - 1)),
                   std::string(ShortName(s.done_type))});
  }
  out.push_back({"completed", "[*]", std::string(ShortName(spec.completed_type))});
  out.push_back({"aborted", "[*]", std::string(ShortName(spec.aborted_type))});
  return out;
}

std::string_view ShortName(std::string_view full_name) {
  size_t dot = full_name.rfind('.');
  return dot == std::string_view::npos ? full_name : full_name.substr(dot + 1);
}

}  // namespace cppsvc::sagas
