// A participant's side of a saga: each step runs at most once per instance
// and answers with its success or failure event; an undo runs the step's
// compensation once, or, when the step has not run yet, leaves a marker so
// that the late step only reports failure. Kept in cppsvc_saga_steps, in the
// transaction of the event being handled.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cppsvc/context.h"
#include "cppsvc/status.h"

namespace cppsvc::sagas {

struct StepKey {
  std::string_view saga;
  std::string_view step;
  std::string id;  // the correlation id
};

// What a step's work ended with: `ok` = succeeded; a non-OK status is an
// error to retry (the event is redelivered).
struct StepOutcome {
  Status status;
  bool succeeded = false;
};

// Runs `run` (the step, emitting its success or failure event) unless the
// step ran before (acknowledged) or was undone first (`refuse` emits the
// failure event without running it).
Status RunStep(EventContext& ctx,
               const StepKey& key,
               const std::function<StepOutcome()>& run,
               const std::function<Status()>& refuse);

// Runs `undo` (the compensation, emitting its done event) when the step
// succeeded; otherwise `done` emits the done event alone, and a step that
// has not run yet is marked so that it never will.
Status RunUndo(EventContext& ctx,
               const StepKey& key,
               const std::function<Status()>& undo,
               const std::function<Status()>& done);

}  // namespace cppsvc::sagas
