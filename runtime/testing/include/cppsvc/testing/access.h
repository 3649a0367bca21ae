// The access matrix of one RPC, for generated contract tests: each cell is a
// token (of a role, or none) and the status the contract says it must get;
// every kind of bad token is tried as well. The generated test states only
// the cells, one line each.
#pragma once

#include <functional>
#include <span>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cppsvc/testing/in_process_server.h"
#include "cppsvc/testing/tokens.h"

namespace cppsvc::testing {

// A call with a valid token of `role` (no token when null) must get `code`.
struct AccessCell {
  const char* name;  // for failure messages, e.g. "role admin"
  const char* role;
  grpc::StatusCode code;
};

// Every kind of bad token, made for a subject holding `role` (no role when
// null; a role the RPC allows, so only the defect makes it fail), must get
// `code`.
struct BadTokenCell {
  const char* role;
  grpc::StatusCode code;
};

// Calls the RPC under test with `token` (none when empty), its request
// owned by `subject` where the RPC names an owner field; returns the status.
using AccessCall =
    std::function<grpc::StatusCode(const std::string& token, const std::string& subject)>;

// A new subject per call (a UUID, as user ids usually are).
std::string NextSubject();

// Calls once per cell, each with a new subject, expecting the cell's code.
void ExpectAccess(const TestTokens& tokens,
                  const AccessCall& call,
                  std::span<const AccessCell> cells);

// As above, then once per kind of bad token, expecting `bad.code`.
void ExpectAccess(const TestTokens& tokens,
                  const AccessCall& call,
                  std::span<const AccessCell> cells,
                  BadTokenCell bad);

// `rpc` of `stub` called with `request` and `token` (none when empty) under
// PrepareContext; its status code.
template <typename Stub, typename Request, typename Response>
grpc::StatusCode CallWithToken(Stub& stub,
                               grpc::Status (Stub::*rpc)(grpc::ClientContext*,
                                                         const Request&,
                                                         Response*),
                               const Request& request,
                               const std::string& token) {
  Response response;
  grpc::ClientContext context;
  PrepareContext(context, token);
  return (stub.*rpc)(&context, request, &response).error_code();
}

}  // namespace cppsvc::testing
