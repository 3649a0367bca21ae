// Servers and helpers for the events runtime's tests: a database per test
// (with the runtime's tables) and a nats-server per test.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cppsvc/db/db.h"
#include "cppsvc/events/events.h"
#include "db_test_support.h"

namespace cppsvc::events::testing {

using namespace std::chrono_literals;

// A nats-server with JetStream in a directory of its own. The port is
// chosen at the first Start and kept, as is the store, so Stop and Start
// act like an outage of one server.
class NatsServer {
 public:
  explicit NatsServer(const std::string& name);
  ~NatsServer();

  void Start();  // fails the test when the server does not come up
  void Stop();
  const std::string& url() const { return url_; }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string url_;
};

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

struct Received {
  std::string subject;
  std::string payload;
  std::map<std::string, std::string> headers;
};

// Every message of `stream` (through an ephemeral ordered read of the
// stream), up to `max`.
std::vector<Received> ReadStream(const std::string& nats_url,
                                 const std::string& stream,
                                 size_t max = 10000);
// Messages stored in `stream`.
uint64_t StreamMessages(const std::string& nats_url, const std::string& stream);
// Publishes synchronously with Nats-Msg-Id = `id`; returns whether the
// stream stored it (false: dropped as a duplicate).
bool PublishSync(const std::string& nats_url,
                 const std::string& subject,
                 const std::string& id,
                 const std::string& payload);

// The sum of every sample of metric `name` (a counter, a gauge, or a
// histogram's `name_count`) in the Prometheus text of `metrics`; -1 when the
// metric has no sample.
double MetricValue(const observability::Metrics& metrics, const std::string& name);

// A database with the runtime's tables and a nats-server, both the test's own.
class EventsTest : public db::testing::DatabaseTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::shared_ptr<db::Pool> MakePool(size_t size = 4);
  // Commits one event through AddToOutbox; returns its id.
  std::string Emit(db::Pool& pool,
                   const std::string& subject,
                   const std::string& payload,
                   std::map<std::string, std::string> headers = {});
  RelayOptions RelayOptionsFor() const;

  std::unique_ptr<NatsServer> nats_;
};

}  // namespace cppsvc::events::testing
