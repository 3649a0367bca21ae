// Who may call an RPC, in a few words, for the comments and docs that
// describe it.
#pragma once

#include <string>

#include "model/model.h"

namespace cppsvc::emit {

// "public", or the effective roles (e.g. "customer, admin"), followed by
// "; owner: <field>" when the RPC has an owner field.
std::string AccessSummary(const model::Method& method);

}  // namespace cppsvc::emit
