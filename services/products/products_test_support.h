// Support of the products service's tests: a migrated PostgreSQL database
// per test (cppsvc::testing::TestDatabase on the server named by
// CPPSVC_TEST_DATABASE_URL[_FILE]; without one the tests fail), the handlers
// called in transactions of it as the generated server and consumers call
// them, and the events they wrote to the outbox.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cppsvc/db/db.h"
#include "cppsvc/testing/test_database.h"
#include "products/products_service.h"

namespace products::testing {

class ProductsTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Runs `body` in one transaction, committed when it returns OK.
  cppsvc::Status InTx(const std::function<cppsvc::Status(cppsvc::db::Tx&)>& body);
  // Runs a handler as the generated server does: in a transaction, for a
  // caller with `roles`.
  cppsvc::Status Call(const std::function<cppsvc::Status(cppsvc::CallContext&)>& handler,
                      std::vector<std::string> roles = {"admin"});
  // Runs an event handler as the generated consumer does.
  cppsvc::Status Deliver(const std::function<cppsvc::Status(cppsvc::EventContext&)>& handler);

  // The events of type `Event` written to the outbox, oldest first.
  template <typename Event>
  std::vector<Event> Emitted() {
    std::vector<Event> events;
    for (const std::string& payload : Payloads(Event::descriptor()->full_name())) {
      EXPECT_TRUE(events.emplace_back().ParseFromString(payload));
    }
    return events;
  }

  // A pool of `size` connections to this test's database.
  std::shared_ptr<cppsvc::db::Pool> WidePool(size_t size);

  std::shared_ptr<cppsvc::db::Pool> pool;
  ProductsService service;

 private:
  std::vector<std::string> Payloads(const std::string& event_type);

  std::unique_ptr<cppsvc::testing::TestDatabase> database_;
};

// The status of `body` run in a transaction on `pool`.
cppsvc::Status RunIn(cppsvc::db::Pool& pool,
                     const std::function<cppsvc::Status(cppsvc::db::Tx&)>& body);

}  // namespace products::testing
