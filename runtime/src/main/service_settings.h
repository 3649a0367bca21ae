// The configuration step of a service process: everything it reads from the
// environment (see cppsvc/impl/main.h for the variables), read at once so a
// bad deployment is told every problem in one message.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/auth/jwt.h"
#include "cppsvc/auth/revocation_feed.h"
#include "cppsvc/config/env.h"
#include "cppsvc/config/service_variables.h"
#include "cppsvc/defaults.h"
#include "cppsvc/impl/specs.h"
#include "cppsvc/observability/log.h"
#include "cppsvc/resilience/bulkhead.h"

namespace cppsvc::impl {

struct Settings {
  std::string address;
  uint16_t grpc_port = 0;
  uint16_t admin_port = 0;
  size_t workers = 0;
  size_t max_queue = 0;
  std::chrono::microseconds worker_spin = resilience::Bulkhead::kDefaultSpin;
  bool inline_handlers = false;
  ForeignResources foreign_resources = defaults::kForeignResources;
  std::chrono::milliseconds drain{10000};
  std::chrono::milliseconds shutdown_delay{0};
  auth::JwtConfig jwt;
  bool log_requests = true;
  std::chrono::milliseconds request_log_delay = observability::kDefaultRequestLogDelay;
  std::vector<std::string> trusted_proxies;
  std::string admin_address;
  std::string admin_role;
  std::string nats_url;
  auth::RevocationFeedOptions revocation;  // target empty: no feed
  std::string database_url;
  size_t pool_size = 0;
  bool migrate = true;
  std::chrono::milliseconds db_startup{30000};
  bool events = false;  // a database and something to publish or consume
  bool relay = true;
  std::chrono::milliseconds relay_poll{1000};
  size_t relay_batch = 1024;
  std::chrono::hours retention{168};
  std::chrono::milliseconds saga_sweep{500};  // how often timed-out sagas are looked for
};

// Whether the service has a database and publishes or consumes events: only
// then it runs a relay and consumers (and the relay and dead-letters
// commands apply).
bool HasEvents(const ServiceSpec& spec);

// The CPPSVC_JWT_* variables, which every service and the gateway read.
auth::JwtConfig ReadJwtConfig(config::Env& env);
// The CPPSVC_REVOCATION_* variables (target empty: none set).
void ReadRevocation(config::Env& env, auth::RevocationFeedOptions& r);

// What decides which variables of config/service_variables.h `spec` reads.
config::ServiceShape ShapeOf(const ServiceSpec& spec);

// Every variable ReadSettings reads for `spec`, in order: once with nothing
// set and once with everything set, so that variables read only when
// another one is set (the revocation feed's) are listed too. The list is
// the configuration step's own: it cannot drift from it.
std::vector<std::string> VariablesRead(const ServiceSpec& spec);
// The same for any configuration step `read` (the gateway's).
std::vector<std::string> VariablesReadBy(const std::function<void(config::Env&)>& read);

// The table entry of variable `name` of the service, or null.
const config::ServiceVariable* FindVariable(const ServiceSpec& spec, std::string_view name);

// Reads the settings of the service `spec` describes; problems are noted in
// `env` (env.Check() reports them).
Settings ReadSettings(const ServiceSpec& spec, config::Env& env);

}  // namespace cppsvc::impl
