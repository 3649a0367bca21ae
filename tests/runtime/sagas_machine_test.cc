#include "cppsvc/sagas/machine.h"

#include <gtest/gtest.h>

namespace cppsvc::sagas {
namespace {

// reserve (undo: released) -> pay (undo: refunded) -> ship (no undo, cannot fail).
SagaSpec ThreeSteps(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
  SagaSpec s;
  s.name = "checkout";
  s.owner = "orders";
  s.trigger_type = "shop.OrderCreated";
  s.completed_type = "shop.OrderConfirmed";
  s.aborted_type = "shop.OrderCancelled";
  s.timeout = timeout;
  s.steps = {{"reserve", "stock", "shop.Reserved", "shop.Rejected", "shop.Released", "u.reserve"},
             {"pay", "payments", "shop.Paid", "shop.Declined", "shop.Refunded", "u.pay"},
             {"ship", "shipping", "shop.Shipped", "", "", ""}};
  return s;
}

State Running(int step) {
  return State{SagaStatus::kRunning, step, -1, Cause::kNone};
}

TEST(SagaMachine, EachSuccessMovesToTheNextStepThenCompletes) {
  const SagaSpec spec = ThreeSteps();
  Decision d = Apply(spec, Running(0), {InputKind::kSucceeded, 0});
  EXPECT_EQ(d.next, Running(1));
  d = Apply(spec, d.next, {InputKind::kSucceeded, 1});
  d = Apply(spec, d.next, {InputKind::kSucceeded, 2});
  EXPECT_EQ(d.next.status, SagaStatus::kCompleted);
  EXPECT_TRUE(d.completed);
  EXPECT_EQ(d.compensate, -1);
}

TEST(SagaMachine, AFailureUndoesOnlyTheStepsBeforeItInReverse) {
  const SagaSpec spec = ThreeSteps();
  Decision d = Apply(spec, Running(1), {InputKind::kFailed, 1});
  EXPECT_EQ(d.compensate, 0);  // pay failed: only reserve is undone
  EXPECT_EQ(d.next.cause, Cause::kFailed);
  d = Apply(spec, d.next, {InputKind::kCompensated, 0});
  EXPECT_TRUE(d.aborted);
  EXPECT_EQ(d.compensate, -1);
}

// A participant runs on the previous step's success event, which the owner
// may handle after the participant's answer (the two are consumed apart).
TEST(SagaMachine, ALaterStepsOutcomeFirstImpliesTheStepsBeforeIt) {
  const SagaSpec spec = ThreeSteps();
  Decision d = Apply(spec, Running(0), {InputKind::kSucceeded, 1});  // paid before reserved
  EXPECT_TRUE(d.changed);
  EXPECT_EQ(d.next, Running(2));
  EXPECT_FALSE(Apply(spec, d.next, {InputKind::kSucceeded, 0}).changed);  // reserved, late
  d = Apply(spec, Running(0), {InputKind::kSucceeded, 2});
  EXPECT_TRUE(d.completed);

  d = Apply(spec, Running(0), {InputKind::kFailed, 1});  // declined before reserved
  EXPECT_EQ(d.compensate, 0);                            // reserve ran: it is undone
  EXPECT_EQ(d.next.cause, Cause::kFailed);
  EXPECT_EQ(d.next.stopped, 1);
  EXPECT_FALSE(Apply(spec, d.next, {InputKind::kSucceeded, 0}).changed);
}

TEST(SagaMachine, AFirstStepFailureEndsAbortedWithNothingToUndo) {
  Decision d = Apply(ThreeSteps(), Running(0), {InputKind::kFailed, 0});
  EXPECT_TRUE(d.aborted);
  EXPECT_EQ(d.compensate, -1);
}

TEST(SagaMachine, ATimeoutUndoesTheCurrentStepToo) {
  const SagaSpec spec = ThreeSteps(std::chrono::milliseconds(1000));
  Decision d = Apply(spec, Running(1), {InputKind::kTimedOut});
  EXPECT_EQ(d.compensate, 1);
  EXPECT_EQ(d.next.cause, Cause::kTimedOut);
  d = Apply(spec, d.next, {InputKind::kCompensated, 1});
  EXPECT_EQ(d.compensate, 0);
  d = Apply(spec, d.next, {InputKind::kCompensated, 0});
  EXPECT_TRUE(d.aborted);
}

TEST(SagaMachine, LateAndDuplicateEventsChangeNothing) {
  const SagaSpec spec = ThreeSteps(std::chrono::milliseconds(1000));
  const Decision timed_out = Apply(spec, Running(1), {InputKind::kTimedOut});
  for (Input late : {Input{InputKind::kSucceeded, 1},
                     Input{InputKind::kFailed, 1},
                     Input{InputKind::kSucceeded, 0},
                     Input{InputKind::kCompensated, 0},
                     Input{InputKind::kTimedOut},
                     Input{InputKind::kAborted}}) {
    const Decision d = Apply(spec, timed_out.next, late);
    EXPECT_FALSE(d.changed);
    EXPECT_EQ(d.next, timed_out.next);
    EXPECT_FALSE(d.ignored.empty());
  }
  EXPECT_FALSE(Apply(spec, Running(1), {InputKind::kSucceeded, 0}).changed);
  State done{SagaStatus::kCompleted, 2, -1, Cause::kNone};
  EXPECT_EQ(Apply(spec, done, {InputKind::kFailed, 2}).ignored, "finished");
}

TEST(SagaMachine, AbortNeedsEveryStepCompensable) {
  EXPECT_FALSE(Apply(ThreeSteps(), Running(0), {InputKind::kAborted}).changed);
  SagaSpec two = ThreeSteps();
  two.steps.pop_back();
  const Decision d = Apply(two, Running(1), {InputKind::kAborted});
  EXPECT_EQ(d.compensate, 1);
  EXPECT_EQ(d.next.cause, Cause::kAborted);
}

TEST(SagaMachine, TransitionsListEveryMoveOfTheMachine) {
  const std::vector<Transition> t = Transitions(ThreeSteps(std::chrono::milliseconds(5)));
  const std::vector<Transition> expected = {
      {"[*]", "reserve", "OrderCreated"},
      {"reserve", "pay", "Reserved"},
      {"reserve", "aborted", "Rejected"},
      {"reserve", "undo_reserve", "timeout"},
      {"pay", "ship", "Paid"},
      {"pay", "undo_reserve", "Declined"},
      {"pay", "undo_pay", "timeout"},
      {"ship", "completed", "Shipped"},
      {"ship", "undo_pay", "timeout"},
      {"undo_pay", "undo_reserve", "Refunded"},
      {"undo_reserve", "aborted", "Released"},
      {"completed", "[*]", "OrderConfirmed"},
      {"aborted", "[*]", "OrderCancelled"},
  };
  EXPECT_EQ(t, expected);
}

TEST(SagaMachine, StateNamesAreStepsUndosAndEnds) {
  const SagaSpec spec = ThreeSteps();
  EXPECT_EQ(StateName(spec, Running(1)), "pay");
  EXPECT_EQ(StateName(spec, State{SagaStatus::kCompensating, 0, 1, Cause::kFailed}),
            "undo_reserve");
  EXPECT_EQ(StateName(spec, State{SagaStatus::kAborted, 0, 1, Cause::kFailed}), "aborted");
}

}  // namespace
}  // namespace cppsvc::sagas
