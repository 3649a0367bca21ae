#include "products/products_test_support.h"

#include <chrono>
#include <sstream>

#include <pqxx/pqxx>

#include "commerce/products/v1/products.cppsvc.migrations.h"

namespace products::testing {
namespace {

cppsvc::Clock::time_point Deadline() {
  return cppsvc::Clock::now() + std::chrono::seconds(30);
}

}  // namespace

cppsvc::Status RunIn(cppsvc::db::Pool& pool,
                     const std::function<cppsvc::Status(cppsvc::db::Tx&)>& body) {
  return cppsvc::db::RunInTransaction(pool, Deadline(), body);
}

void ProductsTest::SetUp() {
  std::string why;
  database_ = cppsvc::testing::TestDatabase::Create(v1::ProductsMigrations(), &why);
  ASSERT_NE(database_, nullptr) << why;
  pool = database_->pool();
}

cppsvc::Status ProductsTest::InTx(const std::function<cppsvc::Status(cppsvc::db::Tx&)>& body) {
  return RunIn(*pool, body);
}

cppsvc::Status ProductsTest::Call(
    const std::function<cppsvc::Status(cppsvc::CallContext&)>& handler,
    std::vector<std::string> roles) {
  cppsvc::CallContext ctx(cppsvc::Caller{"7d0b4c2e-0000-4000-8000-0000000000ad", roles, "jti"},
                          Deadline(),
                          "test",
                          "trace");
  return InTx([&](cppsvc::db::Tx& tx) {
    ctx.set_tx(&tx);
    cppsvc::Status status = handler(ctx);
    ctx.set_tx(nullptr);
    return status;
  });
}

cppsvc::Status ProductsTest::Deliver(
    const std::function<cppsvc::Status(cppsvc::EventContext&)>& handler) {
  cppsvc::EventContext ctx("event", "subject", 1, "trace");
  return InTx([&](cppsvc::db::Tx& tx) {
    ctx.set_tx(&tx);
    cppsvc::Status status = handler(ctx);
    ctx.set_tx(nullptr);
    return status;
  });
}

std::shared_ptr<cppsvc::db::Pool> ProductsTest::WidePool(size_t size) {
  std::ostringstream conninfo;
  {
    auto lease = pool->Acquire(Deadline());
    pqxx::connection_base& c = lease.connection();
    conninfo << "host=" << c.hostname() << " port=" << c.port() << " user=" << c.username()
             << " dbname=" << c.dbname();
  }
  cppsvc::db::PoolOptions options;
  options.conninfo = conninfo.str();
  options.size = size;
  options.acquire_timeout = std::chrono::seconds(30);
  options.connect_timeout = std::chrono::seconds(10);
  return std::make_shared<cppsvc::db::Pool>(options);
}

std::vector<std::string> ProductsTest::Payloads(const std::string& event_type) {
  std::vector<std::string> payloads;
  cppsvc::Status status = InTx([&](cppsvc::db::Tx& tx) {
    pqxx::result rows =
        tx.exec_params("SELECT payload FROM cppsvc_outbox WHERE event_type = $1 ORDER BY seq",
                       event_type);
    for (const pqxx::row& row : rows) {
      pqxx::binarystring bytes(row[0]);
      payloads.push_back(bytes.str());
    }
    return cppsvc::Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.message();
  return payloads;
}

}  // namespace products::testing
