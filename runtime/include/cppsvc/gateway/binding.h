// The proto3 JSON mapping of the gateway, with protobuf's own JSON
// utilities: a request message from the route's path variables, query
// string and JSON body; the JSON body of a response message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cppsvc/gateway/route.h"

namespace cppsvc::gateway {

// Why a request could not be mapped: the field (as the client named it;
// empty when the body as a whole is wrong) and what is wrong with it.
struct BindError {
  std::string field;
  std::string description;
};

struct BindOptions {
  // Unknown JSON fields and query parameters are refused unless set.
  bool ignore_unknown_fields = false;
};

// Fills `request`: first from the body (the whole message for body "*", the
// named field otherwise, nothing without a body), then the path variables,
// then the query parameters (fields named by their JSON or proto names,
// dotted for nested messages, repeated by repeating the parameter).
std::optional<BindError> BindRequest(const RouteSpec& spec,
                                     const std::vector<std::pair<std::string, std::string>>& path,
                                     std::string_view query,
                                     std::string_view body,
                                     const BindOptions& options,
                                     Message& request);

// Sets the field at `path` (dotted; proto or JSON names) from its text form:
// numbers, true/false, enum names or numbers, strings; message-typed fields
// (Timestamp, wrappers, ...) from their JSON string form. Appends to
// repeated fields.
std::optional<BindError> SetField(Message& message, std::string_view path, std::string_view value);

// The response as proto3 JSON: lowerCamelCase names, every field present,
// enums by name; only the field `response_body` when it is set. False when
// the message cannot be printed (a string that is not UTF-8).
bool ResponseJson(const RouteSpec& spec, const Message& response, std::string& out);

}  // namespace cppsvc::gateway
