// For generated servers only: what the contract says about a service and
// each of its RPCs, generated as one constant each (a server's kSpec, and a
// MethodSpec per RPC) and read by the runtime. A new per-service setting is
// a field of ServiceSpec, its line in templates/server/server.h.mustache
// (with its value in the server emitter's view) and its use in the runtime;
// nothing copies it field by field in between.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "cppsvc/defaults.h"
#include "cppsvc/impl/validate.h"

namespace cppsvc::impl {

using Message = google::protobuf::Message;

// The contract's settings of one service; generated as <Service>Server::kSpec
// (aggregate initialisation by field name, so the generated constant states
// each setting once).
struct ServiceSpec {
  std::string_view name;        // short name, e.g. "orders"
  std::string_view full_name;   // "commerce.orders.v1.OrdersService"
  std::string_view base_class;  // the handlers to implement, for messages
  uint16_t grpc_port = 0;       // defaults of PREFIX_GRPC_PORT, PREFIX_ADMIN_PORT
  uint16_t admin_port = 0;
  bool serves_nats = false;   // NATS request-reply as a second transport
  std::string_view database;  // PostgreSQL database; "" = none (no transactions)
  bool publishes = false;     // whether it publishes any event
  size_t subscriptions = 0;   // how many events it consumes
  size_t workers = 0;         // bulkhead sizes; 0 = the runtime's defaults
  size_t max_queue = 0;
  bool inline_handlers = false;  // handlers on gRPC's thread when a slot is free
  ForeignResources foreign_resources = defaults::kForeignResources;
};

enum class RateKey { kCaller, kGlobal, kPeer };

// What the contract says about one RPC; generated as a constant per method.
struct MethodSpec {
  std::string_view name;       // "GetOrder"
  std::string_view full_name;  // "commerce.orders.v1.OrdersService/GetOrder"
  bool is_public = false;
  std::vector<std::string> roles;  // allowed roles (service defaults already applied)
  std::chrono::milliseconds timeout = defaults::kRpcTimeout;
  bool idempotent = false;
  double rate_per_second = 0;  // 0 = no limit
  double rate_burst = 0;
  RateKey rate_key = RateKey::kCaller;
  // Generated accessors; null when the contract has no such rule.
  void (*validate)(const Message& request, Violations& v) = nullptr;
  std::string_view (*request_owner)(const Message& request) = nullptr;
  std::string_view (*response_owner)(const Message& response) = nullptr;
  // The request's idempotency_key field (services with a database).
  std::string_view (*idempotency_key)(const Message& request) = nullptr;
  // Runs of the handler again after a db::VersionConflict (contract's
  // version_conflict_retries).
  int version_conflict_retries = 0;
};

}  // namespace cppsvc::impl
