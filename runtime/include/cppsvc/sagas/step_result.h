// What a participant's step method returns: the step's success event, its
// failure event, or an error to retry (the event is redelivered). The
// generated code emits the event, so a step cannot emit the wrong one.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "cppsvc/status.h"

namespace cppsvc::sagas {

// The failure type of a step that cannot fail.
struct NoFailure {};

template <typename Success, typename Failure>
class StepResult {
 public:
  static StepResult Succeeded(Success event) {
    StepResult r;
    r.success_ = std::move(event);
    return r;
  }
  static StepResult Failed(Failure event) {
    static_assert(!std::is_same_v<Failure, NoFailure>, "this step declares no failure_event");
    StepResult r;
    r.failure_ = std::move(event);
    return r;
  }
  // An error: nothing is emitted and the event is delivered again.
  StepResult(Status error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  const Status& error() const { return error_; }
  bool succeeded() const { return success_.has_value(); }
  bool failed() const { return failure_.has_value(); }
  Success& success() { return *success_; }
  Failure& failure() { return *failure_; }

 private:
  StepResult() = default;
  Status error_ = Status::Ok();
  std::optional<Success> success_;
  std::optional<Failure> failure_;
};

}  // namespace cppsvc::sagas
