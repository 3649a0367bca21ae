// Options of generated clients (`<Service>Client`).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppsvc/context.h"
#include "cppsvc/observability/metrics.h"
#include "cppsvc/resilience/circuit_breaker.h"
#include "cppsvc/resilience/retry.h"

namespace cppsvc {

enum class Transport { kGrpc, kNats };

struct ClientOptions {
  // Replicas ("host:port"), called round-robin; each has its own circuit
  // breaker, and calls skip replicas whose circuit is open. An address may
  // also name several replicas itself: "dns:///orders:3003" (every record of
  // the name, such as a headless Service's, re-resolved as replicas come and
  // go) or "ipv4:10.0.0.1:3003,10.0.0.2:3003"; gRPC balances those round
  // robin, behind the one circuit breaker of the address.
  std::vector<std::string> addresses;
  Transport transport = Transport::kGrpc;
  std::string nats_url;  // for Transport::kNats
  // Token sent when a call has no parent context to take one from.
  std::string bearer_token;
  // Forward the parent call's token (acting on the caller's behalf).
  bool propagate_token = true;
  resilience::CircuitBreakerConfig circuit_breaker;
  // Overrides the contract's retry policy for every idempotent RPC.
  std::optional<resilience::RetryConfig> retry;
  double retry_budget_ratio = 0.2;
  // Receives cppsvc_circuit_state per replica, when set.
  std::shared_ptr<observability::Metrics> metrics;
};

struct CallOptions {
  // Overrides the contract's timeout for this call.
  std::optional<std::chrono::milliseconds> timeout;
  // The call being served, if any: its deadline caps this call's, its trace
  // continues, and (with propagate_token) its token is forwarded.
  const CallContext* parent = nullptr;
  // Token for this call only.
  std::string bearer_token;
  // The address of the client this call is made for (an edge such as the
  // HTTP gateway), sent as x-forwarded-for: a service that lists the
  // caller in CPPSVC_TRUSTED_PROXIES applies its per-peer limits to it.
  std::string forwarded_for;
};

}  // namespace cppsvc
