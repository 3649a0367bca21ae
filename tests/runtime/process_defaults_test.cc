#include <cstdlib>

#include <absl/synchronization/mutex.h>
#include <gtest/gtest.h>

#include "cppsvc/impl/main.h"

namespace cppsvc::impl {
namespace {

// Takes two locks in one order, then in the other: no deadlock (one thread),
// but a cycle in Abseil's lock-order graph.
void TakeLocksInBothOrders() {
  absl::Mutex a, b;
  a.Lock();
  b.Lock();
  b.Unlock();
  a.Unlock();
  b.Lock();
  a.Lock();
  a.Unlock();
  b.Unlock();
}

// Each case runs in a child process, so the setting does not leak into the
// other tests of this binary.
TEST(ProcessDefaults, AbseilAbortsOnALockOrderCycleByDefault) {
  // Debian's libabsl is built without NDEBUG: the detection the runtime
  // turns off is on unless something turns it off.
  EXPECT_DEATH(TakeLocksInBothOrders(), "potential deadlock");
}

TEST(ProcessDefaults, DisableMutexDeadlockDetectionStopsTheLockOrderGraph) {
  EXPECT_EXIT(
      {
        DisableMutexDeadlockDetection();
        TakeLocksInBothOrders();
        std::exit(0);
      },
      testing::ExitedWithCode(0),
      "");
}

}  // namespace
}  // namespace cppsvc::impl
