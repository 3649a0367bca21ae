// How model things are spelled in generated C++: message types relative to
// a file's namespace, field accessor chains, and string literals.
#pragma once

#include <string>

#include "emit/template.h"
#include "model/model.h"

namespace cppsvc::emit {

// The C++ spelling of message `full_name` inside `file`'s namespace: types of
// the file's own package unqualified (as in its .pb.h), others qualified.
std::string CppTypeIn(const model::Model& model,
                      const model::File& file,
                      const std::string& full_name);

// `.order().user_id()` for the path "order.user_id" in `message`, or "" when
// the path does not resolve there.
std::string AccessorChain(const model::Model& model,
                          const std::string& message,
                          const std::string& path);

// `s` as a C++ string literal, quotes included.
std::string CppLiteral(const std::string& s);

// What the client's and the server's views of an rpc share: name,
// constant (k<Service>_<Rpc>: rpcs of two services of a file may share a
// name, and their constants share the file's anonymous namespace),
// full_name, request, response, timeout and idempotent.
Data RpcView(const model::Model& model,
             const model::File& file,
             const model::Service& s,
             const model::Method& m);

}  // namespace cppsvc::emit
