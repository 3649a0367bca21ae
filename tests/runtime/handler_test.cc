#include <cstdlib>
#include <new>
#include <string>

#include <gtest/gtest.h>

#include "cppsvc/impl/server.h"

// Counts the allocations of this thread through operator new, for the tests
// below (every other test of this program runs with it too, uncounted).
namespace {
thread_local long t_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++t_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
// Every form that pairs with the two above, so that no allocation made by a
// form left to the library (a sanitizer's, say) is freed by this free().
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++t_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace cppsvc::impl {
namespace {

struct Handlers {
  Status Get(CallContext& ctx, const std::string& request, std::string& response) {
    response = request + " from " + std::string(ctx.caller().subject);
    return Status::Ok();
  }
};

CallContext Context() {
  Caller caller;
  caller.subject = "user-1";
  return CallContext(caller, Clock::now() + std::chrono::seconds(1), "Get", "");
}

// What a generated server passes: the handlers object, the method, the
// request and the response (40 bytes, trivially copyable).
TEST(Handler, AGeneratedServersHandlerIsKeptInPlace) {
  Handlers handlers;
  Status (Handlers::*rpc)(CallContext&, const std::string&, std::string&) = &Handlers::Get;
  const std::string request = "hello";
  std::string response;
  CallContext ctx = Context();

  const long before = t_allocations;
  Handler handler = [&handlers, rpc, request = &request, response = &response](CallContext& c) {
    return (handlers.*rpc)(c, *request, *response);
  };
  Handler copy = handler;
  Handler moved = std::move(handler);
  const long allocated = t_allocations - before;
  EXPECT_EQ(allocated, 0);

  ASSERT_TRUE(copy);
  EXPECT_TRUE(copy(ctx).ok());
  EXPECT_EQ(response, "hello from user-1");
  response.clear();
  EXPECT_TRUE(moved(ctx).ok());
  EXPECT_EQ(response, "hello from user-1");
}

// Anything else works as a std::function would, each copy with its own
// state.
TEST(Handler, OtherCallablesAreKeptInAStdFunction) {
  std::string seen;
  auto lambda = [prefix = std::string(64, 'p'), &seen](CallContext& ctx) {
    seen = prefix.substr(0, 2) + std::string(ctx.method());
    return Status(StatusCode::kNotFound, "none");
  };
  const long before = t_allocations;
  Handler handler = lambda;
  EXPECT_GT(t_allocations - before, 0);  // the function and its copy of the string
  Handler copy = handler;
  handler = Handler();
  EXPECT_FALSE(handler);
  CallContext ctx = Context();
  const Status status = copy(ctx);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(seen, "ppGet");
}

TEST(Handler, ADefaultHandlerIsEmpty) {
  EXPECT_FALSE(Handler());
}

}  // namespace
}  // namespace cppsvc::impl
