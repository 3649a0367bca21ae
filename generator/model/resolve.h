// model::Resolve: the values a contract leaves to defaults or implies (an
// rpc's roles after the service's default_roles, timeouts, retry and
// consumer settings, stream and durable names, the events each service
// publishes, class names), computed once so that the checks and
// every emitter read the same answer instead of working it out again.
#pragma once

#include "model/model.h"

namespace cppsvc::model {

// Fills the fields model.h marks "resolved". Runs before model::Check, so it
// tolerates what the checks refuse: a reference that does not resolve is
// left for them to report.
void Resolve(Model& model);

}  // namespace cppsvc::model
