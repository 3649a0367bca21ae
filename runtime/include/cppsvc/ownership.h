// The answers about resources a caller may not see, shared by the runtime's
// owner_field check and by handlers that look such a resource up themselves,
// so that the two answers cannot be told apart.
#pragma once

#include "cppsvc/defaults.h"
#include "cppsvc/status.h"

namespace cppsvc {

// NOT_FOUND for a resource that does not exist, and for another user's
// resource under foreign_resources not_found: one text for both, so the
// answer tells an outsider nothing about which ids exist.
Status ResourceNotFound();

// The answer to a call on another user's resource, as the contract's
// foreign_resources (the handler base's kForeignResources) says.
Status ForeignResource(ForeignResources answer);

}  // namespace cppsvc
