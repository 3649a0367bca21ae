// A route of the HTTP/JSON gateway: what the contract says about it (its
// `http` rule, roles and rate limit) and how to call its RPC.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "cppsvc/client.h"
#include "cppsvc/impl/validate.h"
#include "cppsvc/status.h"

namespace cppsvc::gateway {

struct RateLimitSpec {
  double per_second = 0;  // 0: no limit
  uint32_t burst = 0;
  std::string key;  // "caller" (the token's subject, else the address), "peer" or "global"
};

struct RouteSpec {
  std::string verb;           // GET, POST, PUT, PATCH or DELETE
  std::string path;           // the template, e.g. /v1/products/{product_id}
  std::string body;           // "", "*" or the request field the body fills
  std::string response_body;  // "" or the response field sent as the body
  std::string service;        // e.g. commerce.products.v1.ProductsService
  std::string rpc;            // e.g. GetProduct
  bool is_public = false;     // callable without a token
  // The roles of which the caller needs one (the RPC's, else the service's
  // default roles); empty: any authenticated caller.
  std::vector<std::string> roles;
  RateLimitSpec rate_limit;

  // "/commerce.products.v1.ProductsService/GetProduct"
  std::string FullMethod() const { return "/" + service + "/" + rpc; }
  // "GET /v1/products/{product_id}": the route's name in metrics and lists.
  std::string Name() const { return verb + " " + path; }
};

using Message = google::protobuf::Message;

struct Route {
  RouteSpec spec;
  const Message* request_prototype = nullptr;
  const Message* response_prototype = nullptr;
  // The request's validation rules (none when the contract has none).
  std::function<void(const Message&, impl::Violations&)> validate;
  // Calls the RPC through the generated client's asynchronous form: `done`
  // runs once with its status. The messages and the options' parent
  // context live until then.
  std::function<
      void(const Message&, Message*, const CallOptions&, std::function<void(Status)> done)>
      invoke;
};

}  // namespace cppsvc::gateway
